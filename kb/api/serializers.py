from rest_framework import serializers


class SuggestQuerySerializer(serializers.Serializer):
    text = serializers.CharField(max_length=4000, trim_whitespace=True)
    limit = serializers.IntegerField(min_value=1, max_value=10, default=3)


class HitSerializer(serializers.Serializer):
    article_id = serializers.IntegerField()
    title = serializers.CharField()
    snippet = serializers.CharField()
    answer = serializers.CharField()
    score = serializers.FloatField()
    confidence = serializers.FloatField()
    question = serializers.CharField()
    language = serializers.CharField()
