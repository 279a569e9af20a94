"""What search narrows and orders by, on the ticket's search document, so that a search is
answered from the documents and their GIN index alone
(docs/adr/0008-search-document-keeps-copies.md).

PostgreSQL only, beyond the column: triggers make the document's `vector` from its words
and the ticket's facet lexemes (`team 3`, `agent 12`, `status open`, `is open`, `channel
sms`, `tag vip` …: lexemes with a space in them, which no text's words can be) and copy the
ticket's opening time; when a ticket's team, assignee, status, channel, tier, SLA state,
category, tags or opening time change, its document follows. SQLite (embedded mode) has
none of this: its search joins the tickets.
"""

from django.db import migrations, models

_FORWARD = [
    # The facet lexemes of a ticket: what search narrows by (tickets.search.words_keys).
    """
    CREATE FUNCTION tickets_search_facets(t tickets_ticket) RETURNS tsvector
    LANGUAGE sql STABLE AS $$
        SELECT array_to_tsvector(
            array_remove(ARRAY[
                'team ' || t.team_id::text,
                'agent ' || coalesce(t.assignee_id::text, 'none'),
                'status ' || t.status,
                CASE WHEN t.is_open THEN 'is open' END,
                'channel ' || t.channel,
                'tier ' || t.tier,
                'sla ' || t.sla_state,
                CASE WHEN t.category <> '' THEN 'category ' || t.category END
            ], NULL)
            || ARRAY(
                SELECT 'tag ' || tag
                FROM jsonb_array_elements_text(
                    CASE WHEN jsonb_typeof(t.tags) = 'array' THEN t.tags ELSE '[]' END
                ) AS tag
                WHERE tag <> ''
            )
        )
    $$
    """,
    """
    CREATE FUNCTION tickets_search_document_make() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        ticket tickets_ticket;
    BEGIN
        SELECT * INTO ticket FROM tickets_ticket WHERE id = NEW.ticket_id;
        NEW.created_at := ticket.created_at;
        NEW.vector := to_tsvector('simple', coalesce(NEW.document, ''));
        IF FOUND THEN
            NEW.vector := NEW.vector || tickets_search_facets(ticket);
        END IF;
        RETURN NEW;
    END $$
    """,
    """
    CREATE TRIGGER tickets_search_document_make
    BEFORE INSERT OR UPDATE ON tickets_ticketsearchdocument
    FOR EACH ROW EXECUTE FUNCTION tickets_search_document_make()
    """,
    """
    CREATE FUNCTION tickets_search_ticket_follow() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        -- Touching the document makes it again (tickets_search_document_make).
        UPDATE tickets_ticketsearchdocument SET created_at = NEW.created_at
        WHERE ticket_id = NEW.id;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER tickets_search_ticket_follow
    AFTER UPDATE OF team_id, assignee_id, created_at, status, channel, tier, sla_state,
        category, tags
    ON tickets_ticket FOR EACH ROW
    WHEN ((OLD.team_id, OLD.assignee_id, OLD.created_at, OLD.status, OLD.channel, OLD.tier,
           OLD.sla_state, OLD.category, OLD.tags)
          IS DISTINCT FROM
          (NEW.team_id, NEW.assignee_id, NEW.created_at, NEW.status, NEW.channel, NEW.tier,
           NEW.sla_state, NEW.category, NEW.tags))
    EXECUTE FUNCTION tickets_search_ticket_follow()
    """,
    # The documents there are, made again by the trigger.
    "UPDATE tickets_ticketsearchdocument SET document = document",
]

_BACKWARD = [
    "DROP TRIGGER IF EXISTS tickets_search_ticket_follow ON tickets_ticket",
    "DROP FUNCTION IF EXISTS tickets_search_ticket_follow()",
    "DROP TRIGGER IF EXISTS tickets_search_document_make ON tickets_ticketsearchdocument",
    "DROP FUNCTION IF EXISTS tickets_search_document_make()",
    "DROP FUNCTION IF EXISTS tickets_search_facets(tickets_ticket)",
    "UPDATE tickets_ticketsearchdocument SET vector = to_tsvector('simple', document)",
]


def triggers_create(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        for statement in _FORWARD:
            schema_editor.execute(statement)


def triggers_drop(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        for statement in _BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0012_presence"),
    ]

    operations = [
        migrations.AddField(
            model_name="ticketsearchdocument",
            name="created_at",
            field=models.DateTimeField(editable=False, null=True),
        ),
        migrations.RunPython(triggers_create, triggers_drop),
    ]
