"""Small text helpers with no UI: markdown made plain for places that show text as it is."""

import re

_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_EMPHASIS = re.compile(r"(\*\*|\*|~~)(?=\S)(.+?)(?<=\S)\1|(?<!\w)(__|_)(?=\S)(.+?)(?<=\S)\3(?!\w)")
_CODE = re.compile(r"(`+)(.*?)\1")
_MATH = re.compile(r"\$+([^$]*)\$+")
_HEADING = re.compile(r"^\s{0,3}(#{1,6}|>|[-*+]|\d+\.)\s+", re.MULTILINE)


def markdown_to_text(md: str) -> str:
    """The words of a markdown snippet without its markup: `x` -> x, **bold** -> bold,
    [label](url) -> label, headings, quotes and list markers dropped; whitespace collapsed."""
    parts = _CODE.split(_LINK.sub(r"\1", md))
    # split() with two groups gives [text, fence, code, text, fence, code, ...]: code stays as written.
    out = []
    for i in range(0, len(parts), 3):
        text = _MATH.sub(r"\1", parts[i])
        for _ in range(2):  # nested emphasis such as ***x***
            text = _EMPHASIS.sub(lambda m: m.group(2) or m.group(4), text)
        out.append(_HEADING.sub("", text))
        if i + 2 < len(parts):
            out.append(parts[i + 2])
    text = "".join(out)
    return re.sub(r"\s+", " ", text).strip()


# The ASCII punctuation that means something to CommonMark, GFM (tables, strikethrough, autolinks:
# https\://x and www\.x no longer link), Streamlit (:color[...] directives, $math$) or HTML
# (&entities;, <tags>); each renders as itself once backslash-escaped.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:$&=])")


def escape_markdown(text: object) -> str:
    """`text` made safe to interpolate into markdown (st.markdown, st.warning, st.caption ...): it
    renders as the same characters, never as a link, image, heading, list, emphasis, math or HTML.
    Use it for every value that comes from a URL, a user or an instructor."""
    s = "" if text is None else str(text)
    s = _MD_SPECIAL.sub(r"\\\1", s)
    # Leading spaces would start an indented code block; a lone line break would be swallowed.
    return "\n".join(line.lstrip(" \t") for line in s.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
