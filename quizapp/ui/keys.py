"""Keyboard and focus while answering: one call per run of a page that asks a question.

    keyboard(choices=4)           # a choice question: 1-4 pick an option, Enter submits
    keyboard()                    # a text question: its input gets the focus when it is drawn
    keyboard(ratings=True)        # 1-4 click the "Again", "Hard", "Good", "Easy" buttons

The page gets a hidden element carrying three integers (the settings of this run) and a constant
script. The script installs one keydown listener and one DOM observer per browser page (a flag on
`window` keeps reruns and page switches from stacking them); both read the settings from the newest
such element when they act, so a page that does not call `keyboard` is left alone.
"""

import streamlit as st

RATINGS = ("Again", "Hard", "Good", "Easy")

# Constant: nothing is ever formatted into it.
_SCRIPT = """
(function () {
  if (window.__quizappKeys) return;
  window.__quizappKeys = true;
  var RATINGS = ["Again", "Hard", "Good", "Easy"];
  var TEXT = 'input[type="text"], input[type="number"], input[type="password"], input:not([type]), textarea';

  function settings() {
    var all = document.querySelectorAll("[data-quizapp-keys]");
    if (!all.length) return null;
    var el = all[all.length - 1];
    return {
      choices: parseInt(el.getAttribute("data-choices"), 10) || 0,
      ratings: el.getAttribute("data-ratings") === "1",
      focus: el.getAttribute("data-focus") === "1"
    };
  }
  function main() {
    return document.querySelector('[data-testid="stMain"]') || document.body;
  }
  function visible(el) {
    return !!el && el.offsetParent !== null && !el.disabled;
  }
  function typing(el) {
    if (!el || !el.tagName) return false;
    if (el.isContentEditable || el.tagName === "TEXTAREA" || el.tagName === "SELECT") return true;
    return el.tagName === "INPUT" && ["radio", "checkbox", "button", "submit", "range"].indexOf(el.type) < 0;
  }
  function textFields(root) {
    return Array.prototype.filter.call(root.querySelectorAll(TEXT), function (el) {
      return visible(el) && !el.readOnly && !el.closest('[data-baseweb="select"]');
    });
  }
  function options(root) {
    // the inputs themselves: a click on them is what the widgets (react-aria, baseweb) listen to
    var inputs = root.querySelectorAll(
      '[data-testid="stRadio"] input[type="radio"], [data-testid="stCheckbox"] input[type="checkbox"]'
    );
    return Array.prototype.filter.call(inputs, function (input) {
      var label = input.closest("label") || input;
      return label.offsetParent !== null && !input.disabled;
    });
  }
  function answerForm(target) {
    var form = target && target.closest ? target.closest('[data-testid="stForm"]') : null;
    if (form) return form;
    var forms = main().querySelectorAll('[data-testid="stForm"]');
    for (var i = 0; i < forms.length; i++) if (options(forms[i]).length) return forms[i];
    return forms.length ? forms[0] : null;
  }
  function submitButton(form) {
    var buttons = form.querySelectorAll('[data-testid="stFormSubmitButton"] button');
    var usable = Array.prototype.filter.call(buttons, visible);
    var primary = usable.filter(function (b) {
      return (b.getAttribute("data-testid") || "").indexOf("primary") >= 0 || b.getAttribute("kind") === "primary";
    });
    return primary[0] || usable[0] || null;
  }
  function ownShortcut(button) {
    // a button given Streamlit's own `shortcut=` already answers its key: never click it twice
    return !!button.querySelector('[data-has-shortcut="true"]');
  }
  function ratingButton(n) {
    var label = RATINGS[n - 1];
    var buttons = main().querySelectorAll("button");
    for (var i = 0; i < buttons.length; i++) {
      var b = buttons[i];
      if (visible(b) && (b.innerText || b.textContent || "").trim().indexOf(label) === 0) return b;
    }
    return null;
  }

  document.addEventListener("keydown", function (e) {
    var s = settings();
    if (!s || e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || e.isComposing) return;
    if (typing(e.target)) return; // the learner is writing: their keys are theirs
    if (/^[1-9]$/.test(e.key)) {
      var n = parseInt(e.key, 10);
      if (s.ratings && n <= 4) {
        var rate = ratingButton(n);
        if (rate) {
          if (!ownShortcut(rate)) { e.preventDefault(); rate.click(); }
          return;
        }
      }
      if (n <= s.choices) {
        var form = answerForm(null);
        var opts = options(form || main());
        if (opts[n - 1]) { e.preventDefault(); opts[n - 1].click(); }
      }
      return;
    }
    if (e.key === "Enter" && !e.shiftKey) {
      var t = e.target;
      if (t && t.tagName && (t.tagName === "BUTTON" || t.tagName === "A")) return; // it clicks itself
      var f = answerForm(t);
      var submit = f && submitButton(f);
      if (submit && !ownShortcut(submit)) { e.preventDefault(); submit.click(); }
    }
  }, true);

  var pending = false;
  function focusNew() {
    pending = false;
    var s = settings();
    if (!s || !s.focus || typing(document.activeElement)) return;
    var field = textFields(main())[0];
    if (!field || field.__quizappFocused) return;
    field.__quizappFocused = true; // focus each freshly drawn input once, never steal it back later
    field.focus();
  }
  new MutationObserver(function () {
    if (!pending) { pending = true; setTimeout(focusNew, 0); }
  }).observe(document.body, { childList: true, subtree: true });
  focusNew();
})();
"""


def caption_text(choices: int = 0, ratings: bool = False) -> str | None:
    """The one-line hint for these keys, or None when there is no key worth naming."""
    parts = []
    if ratings:
        parts.append("1-4 rate (" + ", ".join(RATINGS) + ")")
    if choices == 1:
        parts.append("1 picks the option")
    elif choices > 1:
        parts.append(f"1-{choices} pick an option")
    if choices:
        parts.append("Enter submits")
    return "Keys: " + " · ".join(parts) if parts else None


def keyboard(choices: int = 0, ratings: bool = False, focus: bool = True, caption: bool = True) -> None:
    """Bind the answering keys for this run of the page; call it once per run, where the hint goes.

    choices: how many options the current answer form offers (radio options or checkboxes); keys
        1..choices (at most 9) pick the i-th, while the focus is not in a text field; Enter then
        submits the form with its primary submit button.
    ratings: keys 1-4 click the buttons whose labels start with Again, Hard, Good, Easy (when shown;
        they win over choices).
    focus: a text input or text area drawn new in the main area gets the focus (once per input).
    caption: show a one-line hint of the keys (none when only the focus is asked for)."""
    n = max(0, min(int(choices), 9))
    if caption:
        text = caption_text(n, bool(ratings))
        if text:
            st.caption(text)
    st.html(
        f'<span data-quizapp-keys="1" data-choices="{n}" data-ratings="{int(bool(ratings))}"'
        f' data-focus="{int(bool(focus))}" hidden></span><script>{_SCRIPT}</script>',
        unsafe_allow_javascript=True,
    )
