"""Knowledge distillation: a small student learns from a large teacher's softened outputs.

On a small stratified subset of scikit-learn's digits (200 images by default), a wide two-hidden-layer
teacher MLP is trained on the labels first. Then two identical small students (same initial weights,
same batches) train side by side in one batched computation:
- alone: cross-entropy on the hard labels only;
- distilled: alpha * CE(labels) + (1 - alpha) * T^2 * KL(softmax(z_teacher / T) || softmax(z_student / T)).
Everything is scored on the held-out rest of the digits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import plotly.graph_objects as go
import torch
import torch.nn.functional as F
from pydantic import Field

from demos._data import digits_split
from demos._nn import BatchedLinear, cpu_generator
from demos.base import Claim, DemoParams, RunContext

STUDENTS = ("student alone", "distilled student")
TEACHER_WIDTH = 128
TEACHER_LR = 1e-3  # Adam
STUDENT_LR = 1e-2  # Adam
WEIGHT_DECAY = 1e-4
BATCH = 64
RECORD_EVERY = 20


class Params(DemoParams):
    temperature: float = Field(
        4.0,
        ge=1.0,
        le=20.0,
        description="Softmax temperature T for the teacher's and student's soft outputs.",
        title="Temperature (T)",
    )
    alpha: float = Field(
        0.1,
        ge=0.0,
        le=1.0,
        description="Weight of the hard-label loss; 1 - alpha goes to the soft targets.",
        title="Hard-label weight (alpha)",
    )
    student_width: int = Field(
        8,
        ge=2,
        le=128,
        description="Hidden units in each student's one hidden layer.",
        title="Student width (units)",
    )
    train_size: int = Field(
        200,
        ge=50,
        le=1200,
        description="Labelled training images (the rest are the test set).",
        title="Training examples",
    )
    steps: int = Field(
        300, ge=20, le=3000, description="Adam steps for the teacher, then for the students.", title="Steps"
    )


@dataclass
class Result:
    temperature: float
    alpha: float
    n_train: int
    n_test: int
    teacher_params: int
    student_params: int
    steps_total: int  # teacher steps + student steps
    steps_done: int = 0
    teacher_steps: list[int] = field(default_factory=list)
    teacher_acc: list[float] = field(default_factory=list)  # test accuracy over the teacher's training
    student_steps: list[int] = field(default_factory=list)
    student_acc: list[list[float]] = field(default_factory=list)  # [2][T]: alone, distilled
    # filled at the end
    final_acc: dict[str, float] = field(default_factory=dict)  # teacher, student alone, distilled student
    example_label: int = -1
    example_probs_t1: list[float] = field(default_factory=list)
    example_probs_t: list[float] = field(default_factory=list)
    example_image: list[float] = field(default_factory=list)  # 64 pixels
    second_choice_t1: float = float("nan")  # mean over test images of the teacher's 2nd-largest probability
    second_choice_t: float = float("nan")

    @property
    def done(self) -> bool:
        return self.steps_done >= self.steps_total and bool(self.final_acc)


def _count(*layers: torch.nn.Module) -> int:
    """Parameters of one variant (the layers carry a leading variant dimension of 1 or 2)."""
    return sum(p[0].numel() for layer in layers for p in layer.parameters())


def _snapshot(r: Result) -> Result:
    return Result(
        r.temperature,
        r.alpha,
        r.n_train,
        r.n_test,
        r.teacher_params,
        r.student_params,
        r.steps_total,
        r.steps_done,
        list(r.teacher_steps),
        list(r.teacher_acc),
        list(r.student_steps),
        [list(a) for a in r.student_acc],
    )


def _second_choice(probs: torch.Tensor) -> torch.Tensor:
    return probs.topk(2, dim=-1).values[..., 1]


def run(params: Params, ctx: RunContext) -> Result:
    dev = torch.device(ctx.device)
    data = digits_split(params.train_size, seed=ctx.seed, device=dev)
    x_tr, y_tr, x_te, y_te = data.x_train, data.y_train, data.x_test, data.y_test
    n_tr = len(y_tr)
    g = cpu_generator(ctx.seed)
    T, a = params.temperature, params.alpha

    t1 = BatchedLinear(1, 64, TEACHER_WIDTH, generator=g, device=dev)
    t2 = BatchedLinear(1, TEACHER_WIDTH, TEACHER_WIDTH, generator=g, device=dev)
    t3 = BatchedLinear(1, TEACHER_WIDTH, 10, generator=g, device=dev)
    s1 = BatchedLinear(2, 64, params.student_width, same_init=True, generator=g, device=dev)
    s2 = BatchedLinear(2, params.student_width, 10, same_init=True, generator=g, device=dev)

    def teacher(xb: torch.Tensor) -> torch.Tensor:
        return t3(F.relu(t2(F.relu(t1(xb)))))[0]

    def students(xb: torch.Tensor) -> torch.Tensor:
        return s2(F.relu(s1(xb)))

    steps = params.steps
    res = Result(T, a, n_tr, len(y_te), _count(t1, t2, t3), _count(s1, s2), 2 * steps)
    res.student_acc = [[], []]
    ctx.progress(0.0, _snapshot(res))
    progress_every = max(1, steps // 10)
    b = min(BATCH, n_tr)

    # ---- the teacher, on the labels
    opt = torch.optim.AdamW(
        [*t1.parameters(), *t2.parameters(), *t3.parameters()], lr=TEACHER_LR, weight_decay=WEIGHT_DECAY
    )
    for step in range(1, steps + 1):
        idx = torch.randint(0, n_tr, (b,), generator=g).to(dev)
        loss = F.cross_entropy(teacher(x_tr[idx]), y_tr[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        res.steps_done = step
        if step % RECORD_EVERY == 0 or step == steps:
            with torch.no_grad():
                res.teacher_steps.append(step)
                res.teacher_acc.append(float((teacher(x_te).argmax(-1) == y_te).float().mean()))
        ctx.tick(step, res.steps_done / res.steps_total, lambda: _snapshot(res))
        if step % progress_every == 0:
            ctx.progress(res.steps_done / res.steps_total, _snapshot(res))

    with torch.no_grad():
        z_tr = teacher(x_tr)
        z_te = teacher(x_te)
        soft_tr = F.softmax(z_tr / T, dim=-1)

    # ---- the two students, side by side: same init, same batches, only the loss differs
    opt = torch.optim.AdamW([*s1.parameters(), *s2.parameters()], lr=STUDENT_LR, weight_decay=WEIGHT_DECAY)
    for step in range(1, steps + 1):
        idx = torch.randint(0, n_tr, (b,), generator=g).to(dev)
        z = students(x_tr[idx])  # [2, B, 10]
        hard = F.cross_entropy(z.reshape(2 * b, 10), y_tr[idx].repeat(2), reduction="none").view(2, b).mean(1)
        log_p = F.log_softmax(z[1] / T, dim=-1)
        kl = F.kl_div(log_p, soft_tr[idx], reduction="batchmean")
        loss = hard[0] + a * hard[1] + (1 - a) * T * T * kl
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        res.steps_done = steps + step
        if step % RECORD_EVERY == 0 or step == steps:
            with torch.no_grad():
                acc = (students(x_te).argmax(-1) == y_te).float().mean(1).tolist()
            res.student_steps.append(step)
            for v in range(2):
                res.student_acc[v].append(acc[v])
        ctx.tick(res.steps_done, res.steps_done / res.steps_total, lambda: _snapshot(res))
        if step % progress_every == 0 and step < steps:
            ctx.progress(res.steps_done / res.steps_total, _snapshot(res))

    with torch.no_grad():
        p1 = F.softmax(z_te, dim=-1)
        pT = F.softmax(z_te / T, dim=-1)
        correct = p1.argmax(-1) == y_te
        res.final_acc = {
            "teacher": float(correct.float().mean()),
            STUDENTS[0]: res.student_acc[0][-1],
            STUDENTS[1]: res.student_acc[1][-1],
        }
        res.second_choice_t1 = float(_second_choice(p1).mean())
        res.second_choice_t = float(_second_choice(pT).mean())
        # the example: a confident, correct call whose runner-up gets the most mass at T
        conf = correct & (p1.max(-1).values > 0.9)
        pick = torch.where(conf, _second_choice(pT), torch.full_like(pT[:, 0], -1.0))
        i = int(pick.argmax())
        res.example_label = int(y_te[i])
        res.example_probs_t1 = p1[i].tolist()
        res.example_probs_t = pT[i].tolist()
        res.example_image = x_te[i].reshape(-1).tolist()
    ctx.progress(1.0, res)
    return res


# ------------------------------------------------------------------------------------------ reading


def metrics(result: Result) -> dict[str, float | int | str]:
    r = result
    out: dict[str, float | int | str] = {
        "steps": r.steps_done,
        "n_train": r.n_train,
        "n_test": r.n_test,
        "teacher_params": r.teacher_params,
        "student_params": r.student_params,
    }
    for name, acc in r.final_acc.items():
        out[f"{name.replace(' ', '_')}_test_accuracy"] = round(acc, 4)
    if math.isfinite(r.second_choice_t):
        out["second_choice_prob_T1"] = round(r.second_choice_t1, 4)
        out["second_choice_prob_T"] = round(r.second_choice_t, 4)
    return out


CLAIMS = {
    "distilled-student-beats-student-alone": "The distilled student beats the same student trained on the labels alone.",
    "student-much-smaller": "The student has many times fewer parameters than the teacher.",
    "temperature-reveals-dark-knowledge": "A higher temperature raises the teacher's second-choice probabilities.",
}


def claims(result: Result) -> list[Claim]:
    r = result
    if not r.done:
        return []
    t, alone, dist = r.final_acc["teacher"], r.final_acc[STUDENTS[0]], r.final_acc[STUDENTS[1]]
    ratio = r.teacher_params / r.student_params
    gain = r.second_choice_t / max(r.second_choice_t1, 1e-12)
    return [
        Claim(
            "distilled-student-beats-student-alone",
            f"Trained on the same {r.n_train} images from the same start, the distilled student reaches "
            f"{dist:.1%} test accuracy against {alone:.1%} for the same student on the labels alone.",
            dist > alone,
        ),
        Claim(
            "student-much-smaller",
            f"The student has {ratio:.0f} times fewer parameters than the teacher "
            f"({r.student_params:,} against {r.teacher_params:,}); the teacher reaches {t:.1%}.",
            ratio >= 10 and t > alone,
        ),
        Claim(
            "temperature-reveals-dark-knowledge",
            f"At T = {r.temperature:g} the teacher's second-choice probability averages {r.second_choice_t:.3f} "
            f"on the test images, {gain:.0f} times its {r.second_choice_t1:.4f} at T = 1: the softened outputs "
            f"show which wrong classes the teacher finds similar.",
            r.temperature > 1 and gain > 2,
        ),
    ]


# ------------------------------------------------------------------------------------------ figures

_COLOURS = {"teacher": "#7f7f7f", STUDENTS[0]: "#1f77b4", STUDENTS[1]: "#d62728"}


def figures(result: Result) -> list[go.Figure]:
    r = result
    n_teacher = r.steps_total // 2
    f_acc = go.Figure()
    if r.teacher_acc:
        f_acc.add_trace(
            go.Scatter(
                x=r.teacher_steps, y=r.teacher_acc, name="teacher", line={"color": _COLOURS["teacher"]}
            )
        )
    for v, name in enumerate(STUDENTS):
        if v < len(r.student_acc) and r.student_acc[v]:
            f_acc.add_trace(
                go.Scatter(
                    x=[n_teacher + s for s in r.student_steps],
                    y=r.student_acc[v],
                    name=name,
                    line={"color": _COLOURS[name]},
                )
            )
    f_acc.add_vline(x=n_teacher, line_dash="dot", line_color="grey", annotation_text="students start")
    f_acc.update_layout(
        title=f"Test accuracy over training ({r.n_train} labelled images; teacher first, then both students)",
        xaxis_title="step",
        yaxis_title="test accuracy",
        yaxis_tickformat=".0%",
    )
    if not r.example_probs_t:
        return [f_acc]
    f_soft = go.Figure()
    digits = [str(d) for d in range(10)]
    f_soft.add_trace(go.Bar(x=digits, y=r.example_probs_t1, name="T = 1", marker_color="#1f77b4"))
    f_soft.add_trace(
        go.Bar(x=digits, y=r.example_probs_t, name=f"T = {r.temperature:g}", marker_color="#ff7f0e")
    )
    f_soft.update_layout(
        title=f"The teacher's probabilities for one test image (a {r.example_label}) at T = 1 and "
        f"T = {r.temperature:g}",
        xaxis_title="class",
        yaxis_title="probability",
        barmode="group",
    )
    f_img = go.Figure(
        go.Heatmap(
            z=[r.example_image[i * 8 : i * 8 + 8] for i in range(8)], colorscale="Greys", showscale=False
        )
    )
    f_img.update_layout(
        title=f"That test image (label {r.example_label})", yaxis_autorange="reversed", width=320
    )
    return [f_acc, f_soft, f_img]
