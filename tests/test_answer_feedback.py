"""Per-answer feedback (imported from Moodle's `#` text or <feedback>): which note a given answer gets."""

from quizapp.grading import answer_feedback

SINGLE = {
    "type": "single",
    "choices": ["ReLU", "Sigmoid", "Tanh"],
    "answer": "ReLU",
    "feedback": {"ReLU": "Right: its gradient is 1 for positive inputs.", "*": "Look at the slope."},
}


def test_single_picks_the_chosen_options_note_then_the_catch_all():
    assert answer_feedback(SINGLE, "ReLU") == ["Right: its gradient is 1 for positive inputs."]
    assert answer_feedback(SINGLE, "Tanh") == ["Look at the slope."]
    assert answer_feedback({**SINGLE, "feedback": None}, "Tanh") == []
    assert answer_feedback(SINGLE, "") == []  # unreadable answer: no note, no crash


def test_multi_gives_each_picked_options_note_in_choice_order():
    q = {
        "type": "multi",
        "choices": ["a", "b", "c"],
        "answer": ["a", "b"],
        "feedback": {"b": "b note", "a": "a note", "*": "other"},
    }
    assert answer_feedback(q, ["b", "a"]) == ["a note", "b note"]
    assert answer_feedback(q, ["c"]) == ["other"]


def test_truefalse_numeric_and_short_match_what_was_answered():
    tf = {"type": "truefalse", "answer": True, "feedback": {"false": "It is true."}}
    assert answer_feedback(tf, False) == ["It is true."]
    assert answer_feedback(tf, True) == []
    num = {
        "type": "numeric",
        "answer": 3.14,
        "tolerance": 0.01,
        "alternatives": [{"answer": 3.0, "tolerance": 0.1, "credit": 0.5}],
        "feedback": {"0": "Exact.", "1": "Close: more digits.", "*": "Think of a circle."},
    }
    assert answer_feedback(num, "3.141") == ["Exact."]
    assert answer_feedback(num, 3.05) == ["Close: more digits."]
    assert answer_feedback(num, 7) == ["Think of a circle."]
    short = {
        "type": "short",
        "answers": ["adam", "sgd"],
        "credits": {"adam": 1.0, "sgd": 0.5},
        "feedback": {"sgd": "Plain SGD has no moments.", "*": "Which keeps two moments?"},
    }
    assert answer_feedback(short, "SGD") == ["Plain SGD has no moments."]
    assert answer_feedback(short, "rmsprop") == ["Which keeps two moments?"]
