"""HTML: readable text for triage and agents, sanitised markup for the ticket page."""

from channels_ingest.email.html import html_to_text, sanitise_html


def test_paragraphs_and_line_breaks_survive():
    assert html_to_text("<p>第一段</p><p>第二段<br>第二行</p>") == "第一段\n\n第二段\n第二行"


def test_lists_get_bullets_and_numbers():
    html = "<ul><li>苹果</li><li>香蕉</li></ul><ol start='3'><li>三</li><li>四</li></ol>"
    assert html_to_text(html) == "- 苹果\n- 香蕉\n\n3. 三\n4. 四"


def test_links_are_written_as_text_and_url():
    html = '<a href="https://shop.example/o/1">订单</a> <a href="https://x.example">https://x.example</a>'
    assert html_to_text(html) == "订单 (https://shop.example/o/1) https://x.example"


def test_mailto_link_showing_its_address_is_not_repeated():
    assert html_to_text('<a href="mailto:a@b.cn">a@b.cn</a>') == "a@b.cn"


def test_scripts_styles_and_head_are_dropped():
    html = (
        "<html><head><title>T</title><style>p{}</style></head>"
        "<body><script>x()</script>正文</body></html>"
    )
    assert html_to_text(html) == "正文"


def test_entities_are_decoded_and_whitespace_including_nbsp_collapses():
    assert html_to_text("<div>  a&nbsp;&amp;\n   b  </div>") == "a & b"


def test_blockquote_is_marked_as_quoted():
    assert html_to_text("<p>new</p><blockquote><p>old</p></blockquote>") == "new\n\n> old"


def test_preformatted_text_keeps_its_lines():
    assert html_to_text("<pre>a  b\n  c</pre>") == "a  b\n  c"


def test_sanitiser_removes_scripts_handlers_styles_and_javascript_urls():
    html = (
        '<p style="position:fixed" onmouseover="x()">hi</p><script>alert(1)</script>'
        '<a href="javascript:alert(1)">x</a><iframe src="https://evil.example"></iframe>'
        '<form action="/"><input name="p"></form>'
    )
    assert sanitise_html(html) == '<p>hi</p><a rel="noopener noreferrer nofollow">x</a>'


def test_sanitiser_keeps_cid_images_and_drops_data_urls():
    html = '<img src="cid:logo@x" alt="logo"><img src="data:image/png;base64,AAAA">'
    assert sanitise_html(html) == '<img src="cid:logo@x" alt="logo"><img>'
