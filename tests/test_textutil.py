from quizapp.textutil import markdown_to_text


def test_markup_goes_and_code_stays_as_written():
    md = "What does `torch.no_grad()` do to **memory**, [see](http://x) *this* and _that_ in snake_case?"
    assert markdown_to_text(md) == "What does torch.no_grad() do to memory, see this and that in snake_case?"


def test_headings_lists_math_and_whitespace():
    assert markdown_to_text("# Title\n\n- one\n- two with $O(n^2)$") == "Title one two with O(n^2)"


def test_escape_markdown_every_special_character():
    from quizapp.textutil import escape_markdown

    assert escape_markdown("[Sign in again](https://evil.example)") == (
        r"\[Sign in again\]\(https\://evil\.example\)"
    )
    assert escape_markdown("![x](https://evil.example/x.png)").startswith(r"\!\[x\]\(")
    assert escape_markdown("# title") == r"\# title"
    assert escape_markdown("1. one") == r"1\. one"
    assert escape_markdown("- item") == r"\- item"
    assert escape_markdown("a*b*_c_ `x` $y$ ~z~ <b> {k} |t| \\") == (
        r"a\*b\*\_c\_ \`x\` \$y\$ \~z\~ \<b\> \{k\} \|t\| \\"
    )
    assert escape_markdown(":red[x]") == r"\:red\[x\]"
    assert escape_markdown("plain words, 42; 'quoted' \"too\"? 5%") == "plain words, 42; 'quoted' \"too\"? 5%"
    assert escape_markdown("a@b.com &amp; ===") == r"a@b\.com \&amp; \=\=\="
    assert escape_markdown(None) == ""
    assert escape_markdown(3) == "3"


def test_escape_markdown_lines_never_start_a_code_block_or_marker():
    from quizapp.textutil import escape_markdown

    assert escape_markdown("a\n    # b\r\n+ c") == "a\n\\# b\n\\+ c"


def test_escaped_text_renders_as_the_same_characters():
    """Through a CommonMark renderer (markdown-it, as Streamlit's remark would) the escaped text
    is plain text: no link, image, emphasis or heading, and the same characters as the input."""
    import html

    import pytest

    markdown_it = pytest.importorskip("markdown_it")
    from quizapp.textutil import escape_markdown

    md = markdown_it.MarkdownIt("commonmark").enable(["table", "strikethrough"])
    for raw in [
        "[Sign in again](https://evil.example)",
        "![x](https://evil.example/x.png)",
        "# Heading *bold* _it_ `code` <a href='x'>y</a>",
        "visit https://evil.example or www.evil.example",
        "1. not a list | a | b |",
    ]:
        out = md.render(escape_markdown(raw))
        assert "<a" not in out and "<img" not in out and "<h1" not in out
        assert "<em" not in out and "<strong" not in out and "<code" not in out and "<ol" not in out
        assert html.unescape(out.removeprefix("<p>").removesuffix("</p>\n")) == raw
