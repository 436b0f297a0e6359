"""Moodle XML import from a fixture written in the published format: CDATA, entities, files, types."""

import pytest

from quizapp.bank.schema import QuestionSpec
from quizapp.interop import InteropError, parse

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="

XML = f"""<?xml version="1.0" encoding="UTF-8"?>
<quiz>
  <question type="category">
    <category><text>$course$/top/Default for DL/Transformers</text></category>
  </question>
  <question type="multichoice">
    <name><text>Attention &amp; scaling</text></name>
    <questiontext format="html">
      <text><![CDATA[<p>Why divide by &radic;d<sub>k</sub>?</p><p><img src="@@PLUGINFILE@@/dot.png" alt="dots"></p>]]></text>
      <file name="dot.png" path="/" encoding="base64">{PNG}</file>
    </questiontext>
    <generalfeedback format="html"><text><![CDATA[<p>Dot products grow with <em>d</em>.</p>]]></text></generalfeedback>
    <idnumber>attn-scale</idnumber>
    <single>true</single>
    <answer fraction="100" format="html"><text><![CDATA[<p>Keep the softmax out of saturation</p>]]></text>
      <feedback format="html"><text>Yes &#8212; right.</text></feedback></answer>
    <answer fraction="0" format="html"><text>Speed</text><feedback format="html"><text></text></feedback></answer>
    <answer fraction="-33.33333" format="html"><text>Memory</text></answer>
    <tags><tag><text>attention</text></tag><tag><text>Scaled Dot</text></tag></tags>
  </question>
  <question type="multichoice">
    <name><text>Pick two</text></name>
    <questiontext format="plain_text"><text>Which are attention variants?</text></questiontext>
    <single>false</single>
    <answer fraction="50"><text>Multi-head</text></answer>
    <answer fraction="50"><text>Grouped-query</text></answer>
    <answer fraction="-50"><text>Max pooling</text></answer>
  </question>
  <question type="truefalse">
    <name><text>TF</text></name>
    <questiontext format="moodle_auto_format"><text>Self-attention is permutation-equivariant.</text></questiontext>
    <generalfeedback><text>Without positions it is.</text></generalfeedback>
    <answer fraction="100"><text>true</text><feedback><text>Right.</text></feedback></answer>
    <answer fraction="0"><text>false</text><feedback><text>Think of positions.</text></feedback></answer>
  </question>
  <question type="shortanswer">
    <name><text>Case</text></name>
    <questiontext format="html"><text>Name the layer that mixes tokens.</text></questiontext>
    <usecase>1</usecase>
    <answer fraction="100"><text>Attention</text><feedback><text>Yes.</text></feedback></answer>
    <answer fraction="50"><text>Self*</text></answer>
    <answer fraction="0"><text>*</text><feedback><text>No.</text></feedback></answer>
  </question>
  <question type="numerical">
    <name><text>Heads</text></name>
    <questiontext format="html"><text>Heads in BERT-base?</text></questiontext>
    <answer fraction="100"><text>12</text><tolerance>0</tolerance></answer>
    <answer fraction="25"><text>16</text><tolerance>0.5</tolerance><feedback><text>That is BERT-large.</text></feedback></answer>
    <units><unit><multiplier>1</multiplier><unit_name>heads</unit_name></unit></units>
  </question>
  <question type="essay">
    <name><text>Explain</text></name>
    <questiontext format="html"><text>Explain multi-head attention.</text></questiontext>
    <graderinfo format="html"><text><![CDATA[<p>Several heads attend in parallel. Each has its own projections.</p>]]></text></graderinfo>
  </question>
  <question type="matching"><name><text>M</text></name><questiontext><text>x</text></questiontext></question>
  <question type="cloze"><name><text>Cloze</text></name><questiontext><text>{{1:SA:=x}}</text></questiontext></question>
  <question type="calculated"><name><text>Calc</text></name><questiontext><text>{{a}}+1</text></questiontext></question>
  <question type="ddwtos"><name><text>Drag</text></name><questiontext><text>x</text></questiontext></question>
  <question type="multichoice">
    <name><text>Bad grade</text></name>
    <questiontext><text>Q</text></questiontext>
    <answer fraction="42"><text>a</text></answer><answer fraction="100"><text>b</text></answer>
  </question>
</quiz>
"""


@pytest.fixture(scope="module")
def result():
    return parse(XML.encode(), "moodle-xml", source="t.xml")


def _by(result):
    return {q["title"]: q for q in result.questions}


def test_types_map(result):
    by = _by(result)
    assert set(by) == {"Attention & scaling", "Pick two", "TF", "Case", "Heads", "Explain"}
    for q in result.questions:
        QuestionSpec.model_validate(q)
        assert q["topic"] == "transformers"


def test_cdata_entities_and_files(result):
    q = _by(result)["Attention & scaling"]
    assert q["id"] == "attn-scale"
    assert q["prompt"] == "Why divide by \u221ad_k?\n\n(dots)"
    assert q["explanation"] == "Dot products grow with *d*."
    assert q["choices"][0] == "Keep the softmax out of saturation"
    assert q["feedback"] == {"Keep the softmax out of saturation": "Yes \u2014 right."}
    assert q["credits"] == {"Memory": -0.3333333}
    assert q["tags"] == ["attention", "scaled-dot"]
    assert any("embedded file(s)" in n and "dropped" in n for n in result.notices)


def test_multi_plain_rule_needs_no_credits(result):
    q = _by(result)["Pick two"]
    assert q["type"] == "multi" and q["answer"] == ["Multi-head", "Grouped-query"]
    assert "credits" not in q


def test_truefalse_short_numeric_essay(result):
    by = _by(result)
    assert by["TF"]["answer"] is True and by["TF"]["feedback"] == {
        "true": "Right.",
        "false": "Think of positions.",
    }
    case = by["Case"]
    assert case["answers"] == ["Attention", "Self.*"] and case["case_sensitive"] is True
    assert case["credits"] == {"Self.*": 0.5} and case["feedback"] == {"Attention": "Yes.", "*": "No."}
    heads = by["Heads"]
    assert heads["answer"] == 12.0 and heads["alternatives"] == [
        {"answer": 16.0, "tolerance": 0.5, "credit": 0.25}
    ]
    assert heads["feedback"] == {"1": "That is BERT-large."}
    essay = by["Explain"]
    assert essay["answer"] == "Several heads attend in parallel. Each has its own projections."
    assert essay["key_points"] == ["Several heads attend in parallel.", "Each has its own projections."]


def test_skipped_and_refused(result):
    assert sorted(s["question"] for s in result.skipped) == ["Calc", "Cloze", "Drag", "M"]
    assert len(result.refused) == 1
    bad = result.refused[0]
    lines = XML.split("\n")
    start = next(
        n for n in range(len(lines), 0, -1) if "<question" in lines[n - 1] and "Bad grade" in lines[n]
    )
    assert bad["question"] == "Bad grade" and bad["line"] == start
    assert "question 'Bad grade'" in bad["reason"] and "42% is not one of Moodle's grades" in bad["reason"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<quiz><question type='truefalse'>", "not valid XML"),
        (b"not xml at all", "not valid XML"),
        (b"<html><body/></html>", "starts with <quiz>"),
        (
            b'<?xml version="1.0"?><!DOCTYPE q [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">'
            b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;">]><quiz><question type="truefalse"><name><text>&c;</text>'
            b"</name></question></quiz>",
            "declares entities",
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE q [<!ENTITY x SYSTEM "file:///etc/passwd">]><quiz>&x;</quiz>',
            "declares entities",
        ),
        (b"<quiz></quiz>", "no question found"),
    ],
)
def test_whole_file_problems(data, message):
    with pytest.raises(InteropError, match=message):
        parse(data, "moodle-xml", source="x.xml")


def test_xss_in_xml_is_inert():
    xml = b"""<quiz><question type="category"><category><text>cnn</text></category></question>
    <question type="multichoice"><name><text>&lt;script&gt;alert(1)&lt;/script&gt;Name</text></name>
    <questiontext format="html"><text><![CDATA[<div onmouseover="alert(2)">Q <a href="data:text/html,x">x</a>
    <object data="x"></object>&lt;img src=x onerror=alert(3)&gt;</div>]]></text></questiontext>
    <generalfeedback format="markdown"><text><![CDATA[<b onclick=alert(4)>hi</b> [a](vbscript:x)]]></text></generalfeedback>
    <answer fraction="100" format="html"><text><![CDATA[<script>alert(5)</script>A]]></text>
    <feedback format="html"><text><![CDATA[<iframe src=x></iframe>F]]></text></feedback></answer>
    <answer fraction="0" format="plain_text"><text><![CDATA[<b>B</b>]]></text></answer>
    </question></quiz>"""
    q = parse(xml, "moodle-xml").questions[0]
    for t in [q["title"], q["prompt"], q["explanation"], *q["choices"], *q["feedback"].values()]:
        assert "<" not in t.replace("&lt;", ""), t
        assert "script:" not in t.replace("] (vbscript:", ""), t
    assert q["title"] == "Name"
    assert q["prompt"] == "Q x &lt;img src=x onerror=alert(3)>"
    assert q["choices"] == ["A", "&lt;b>B&lt;/b>"] and q["feedback"] == {"A": "F"}
    assert q["explanation"] == "&lt;b onclick=alert(4)>hi&lt;/b> [a] (vbscript:x)"
