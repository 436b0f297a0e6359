from quizapp.textutil import markdown_to_text


def test_markup_goes_and_code_stays_as_written():
    md = "What does `torch.no_grad()` do to **memory**, [see](http://x) *this* and _that_ in snake_case?"
    assert markdown_to_text(md) == "What does torch.no_grad() do to memory, see this and that in snake_case?"


def test_headings_lists_math_and_whitespace():
    assert markdown_to_text("# Title\n\n- one\n- two with $O(n^2)$") == "Title one two with O(n^2)"
