"""Lessons as files: load, validate and render them once, at start-up.

A lesson is a folder under `content/` (see `content/README.md` for the format): `lesson.yaml`
holds what does not depend on the language (steps, manifests, commands, faults, predictions'
answers, checks), `en.md` and `ko.md` the words, as Markdown with front matter, one `## Title
{#step-id}` section per step. Everything is checked on load — every step in both languages,
every manifest valid for the Kubernetes API, every check understood — and a problem is a
`LessonError` naming the file and what is wrong, so a broken lesson stops the site from
starting instead of failing in front of a learner.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml
from markdown_it import MarkdownIt
from mdit_py_plugins.front_matter import front_matter_plugin

from clusters.manifests import manifest_problems
from tutor.lessons.checks import Check, CheckSpecError, parse_check
from tutor.sandboxes.console import CommandRefused, parse_command

CONTENT = Path(__file__).resolve().parent / "content"
LANGUAGES = ("en", "ko")
STEP_HEADING = re.compile(r"^## (?P<title>.+?) \{#(?P<id>[a-z0-9-]+)\}\s*$")
PART_HEADING = re.compile(r"^### (?P<title>.+?) \{#(?P<part>predict|reveal|hints)\}\s*$")
CHOICE = re.compile(r"^(?P<id>[a-z0-9-]+): (?P<text>.+)$", re.DOTALL)
FAULTS = ("kill-container", "stop-kubelet", "start-kubelet", "break-image")
# Terms of the Kubernetes Korean localization, and spellings that stray from them.
KOREAN_TERMS = {
    "포드": "파드",
    "디플로이멘트": "디플로이먼트",
    "레플리카 셋": "레플리카셋",
    "네임 스페이스": "네임스페이스",
    "컨트롤플레인": "컨트롤 플레인",
    "스테이트풀 셋": "스테이트풀셋",
    "데몬 셋": "데몬셋",
}


class LessonError(ValueError):
    """A lesson file that cannot be used, with the file and the problem."""


# --- the pieces of a lesson --------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    id: str
    html: str


@dataclass(frozen=True)
class StepText:
    title: str
    html: str
    question_html: str = ""
    choices: tuple[Choice, ...] = ()
    reveal_html: str = ""
    hints: tuple[str, ...] = ()


@dataclass(frozen=True)
class LessonText:
    title: str
    summary: str
    intro_html: str
    steps: dict[str, StepText] = field(hash=False)


@dataclass(frozen=True)
class Fault:
    kind: str  # one of FAULTS
    options: dict = field(hash=False)


@dataclass(frozen=True)
class Step:
    id: str
    manifest: str = ""  # the manifest's text
    manifest_file: str = ""
    commands: tuple[str, ...] = ()
    fault: Fault | None = None
    choices: tuple[str, ...] = ()
    answer: str = ""
    check: Check | None = None

    @property
    def has_prediction(self) -> bool:
        return bool(self.choices)


@dataclass(frozen=True)
class Lesson:
    slug: str
    order: int
    concepts: tuple[str, ...]
    steps: tuple[Step, ...]
    texts: dict[str, LessonText] = field(hash=False)

    def text(self, language: str) -> LessonText:
        return self.texts.get(language[:2], self.texts["en"])

    def step(self, step_id: str) -> Step | None:
        return next((s for s in self.steps if s.id == step_id), None)

    @property
    def checked_steps(self) -> tuple[Step, ...]:
        return tuple(s for s in self.steps if s.check is not None)


@dataclass(frozen=True)
class Catalog:
    lessons: tuple[Lesson, ...]

    def get(self, slug: str) -> Lesson | None:
        return next((lesson for lesson in self.lessons if lesson.slug == slug), None)

    def next_after(self, lesson: Lesson) -> Lesson | None:
        index = self.lessons.index(lesson)
        return self.lessons[index + 1] if index + 1 < len(self.lessons) else None


# --- Markdown ----------------------------------------------------------------------------------


def _markdown() -> MarkdownIt:
    # No raw HTML: lesson text is Markdown only, so nothing in it can break the page around it.
    return MarkdownIt("commonmark", {"html": False}).enable("table").use(front_matter_plugin)


MARKDOWN = _markdown()


CODE = re.compile(r"<(code|pre)>.*?</\1>", re.DOTALL)


def render(text: str) -> str:
    html = MARKDOWN.render(text).strip()
    stray = next((line for line in CODE.sub("", html).splitlines() if "*" in line), None)
    if stray:
        # CommonMark does not close `*emphasis*` between punctuation and a letter, as in
        # `*상태(state)*가`: the asterisks would show. Move the marker: `*상태*(state)가`.
        raise LessonError(f"emphasis that does not render (an asterisk shows) in: {stray}")
    return html


# The front matter: a `---` line first, then YAML, then a `---` line. Found by its fences, not by
# parsing the whole file as Markdown only to read its first block.
FRONT_MATTER = re.compile(r"\A---[ \t]*\n(?P<yaml>.*?)^---[ \t]*$\n?", re.DOTALL | re.MULTILINE)


def yaml_load(text: str):
    """YAML with libyaml's parser where PyYAML was built with it (ten times faster than the pure
    Python one: the catalog is loaded at every start of the web)."""
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506  (a safe loader)


def _front_matter(text: str, where: str) -> tuple[dict, str]:
    found = FRONT_MATTER.match(text)
    if found is None:
        raise LessonError(f"{where}: starts with no front matter (--- title: … ---)")
    try:
        meta = yaml_load(found["yaml"]) or {}
    except yaml.YAMLError as error:
        raise LessonError(f"{where}: the front matter is not valid YAML: {error}") from None
    if not isinstance(meta, dict) or not meta.get("title") or not meta.get("summary"):
        raise LessonError(f"{where}: the front matter needs a title and a summary")
    return meta, text[found.end() :]


def _list_items(text: str) -> list[str]:
    """The Markdown source of each item of the first bullet list in `text`."""
    lines = text.splitlines()
    items, depth = [], 0
    for token in MARKDOWN.parse(text):
        if token.type == "bullet_list_open":
            depth += 1
        elif token.type == "bullet_list_close":
            depth -= 1
            if depth == 0:
                break
        elif token.type == "list_item_open" and depth == 1:
            start, end = token.map
            item = "\n".join(lines[start:end])
            items.append(re.sub(r"^\s*[-*+]\s+", "", item, count=1).strip())
    return items


def _split(body: str, heading: re.Pattern) -> tuple[str, list[tuple[re.Match, str]]]:
    """The text before the first heading matching `heading`, then each heading with its text."""
    head: list[str] = []
    sections: list[tuple[re.Match, list[str]]] = []
    fence = False
    for line in body.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fence = not fence
        match = None if fence else heading.match(line)
        if match:
            sections.append((match, []))
        elif sections:
            sections[-1][1].append(line)
        else:
            head.append(line)
    return "\n".join(head).strip(), [(m, "\n".join(text).strip()) for m, text in sections]


def _step_text(title: str, text: str, where: str) -> StepText:
    intro, parts = _split(text, PART_HEADING)
    found = {match["part"]: part for match, part in parts}
    if len(found) != len(parts):
        raise LessonError(f"{where}: a part ({{#predict}}, {{#reveal}} or {{#hints}}) appears twice")
    question_html, choices = "", ()
    if "predict" in found:
        question, _ = _split(found["predict"], re.compile(r"^\s*[-*+] "))
        items = _list_items(found["predict"])
        parsed = [CHOICE.match(item) for item in items]
        if not items or not all(parsed):
            raise LessonError(f"{where}: the prediction's choices are list items `- <id>: <text>`")
        question_html = render(question)
        choices = tuple(Choice(m["id"], render(m["text"])) for m in parsed if m)
    hints = tuple(render(item) for item in _list_items(found.get("hints", "")))
    if "hints" in found and not hints:
        raise LessonError(f"{where}: the hints part has no list items")
    return StepText(
        title=title,
        html=render(intro),
        question_html=question_html,
        choices=choices,
        reveal_html=render(found.get("reveal", "")),
        hints=hints,
    )


def _lesson_text(path: Path) -> LessonText:
    where = str(path.relative_to(CONTENT.parent))
    meta, body = _front_matter(path.read_text(encoding="utf-8"), where)
    intro, sections = _split(body, STEP_HEADING)
    steps: dict[str, StepText] = {}
    for match, text in sections:
        if match["id"] in steps:
            raise LessonError(f"{where}: step {match['id']} appears twice")
        steps[match["id"]] = _step_text(match["title"], text, f"{where} step {match['id']}")
    return LessonText(title=str(meta["title"]), summary=str(meta["summary"]), intro_html=render(intro), steps=steps)


# --- lesson.yaml -------------------------------------------------------------------------------


def _fault(spec: object, where: str) -> Fault:
    if not isinstance(spec, dict) or len(spec) != 1:
        raise LessonError(f"{where}: a fault is a mapping with one key, one of: {', '.join(FAULTS)}")
    ((kind, options),) = spec.items()
    if kind not in FAULTS or not isinstance(options, dict):
        raise LessonError(
            f"{where}: unknown fault {kind!r} (or its options are not a mapping); known: {', '.join(FAULTS)}"
        )
    return Fault(kind, options)


STEP_KEYS = {"id", "manifest", "commands", "fault", "prediction", "check"}


def _step(spec: object, folder: Path, where: str) -> Step:
    if not isinstance(spec, dict) or not isinstance(spec.get("id"), str):
        raise LessonError(f"{where}: a step is a mapping with an id")
    where = f"{where} step {spec['id']}"
    unknown = set(spec) - STEP_KEYS
    if unknown:
        raise LessonError(f"{where}: unknown keys {', '.join(sorted(unknown))} (known: {', '.join(sorted(STEP_KEYS))})")
    manifest = ""
    if spec.get("manifest"):
        path = folder / spec["manifest"]
        if not path.is_file():
            raise LessonError(f"{where}: manifest {spec['manifest']} does not exist in {folder.name}/")
        manifest = path.read_text(encoding="utf-8")
        problems = manifest_problems(manifest)
        if problems:
            raise LessonError(f"{where}: manifest {spec['manifest']} would be refused: {'; '.join(problems)}")
    commands = spec.get("commands") or []
    if not isinstance(commands, list) or not all(isinstance(c, str) and c.startswith("kubectl ") for c in commands):
        raise LessonError(f"{where}: commands are a list of lines starting with `kubectl `")
    for command in commands:
        try:
            parse_command(command, stdin_available=False)
        except CommandRefused as refused:
            raise LessonError(f"{where}: the console would refuse `{command}`: {refused}") from None
    choices, answer = (), ""
    if "prediction" in spec:
        prediction = spec["prediction"]
        if not isinstance(prediction, dict) or set(prediction) != {"choices", "answer"}:
            raise LessonError(f"{where}: a prediction has choices (a list of ids) and an answer (one of them)")
        choices, answer = tuple(prediction["choices"]), prediction["answer"]
        if answer not in choices or len(choices) < 2:
            raise LessonError(f"{where}: the prediction's answer {answer!r} must be one of at least two choices")
    try:
        check = parse_check(spec["check"], where) if "check" in spec else None
    except CheckSpecError as error:
        raise LessonError(str(error)) from None
    return Step(
        id=spec["id"],
        manifest=manifest,
        manifest_file=spec.get("manifest", ""),
        commands=tuple(commands),
        fault=_fault(spec["fault"], where) if "fault" in spec else None,
        choices=choices,
        answer=answer,
        check=check,
    )


def _check_texts(lesson_steps: tuple[Step, ...], texts: dict[str, LessonText], folder: Path) -> None:
    ids = [step.id for step in lesson_steps]
    for language, text in texts.items():
        where = f"{folder.name}/{language}.md"
        if list(text.steps) != ids:
            raise LessonError(f"{where}: its steps {list(text.steps)} are not lesson.yaml's {ids}, in that order")
        for step in lesson_steps:
            words = text.steps[step.id]
            if step.has_prediction:
                if tuple(c.id for c in words.choices) != step.choices:
                    raise LessonError(f"{where} step {step.id}: its choices must be {list(step.choices)}, in order")
                if not words.reveal_html:
                    raise LessonError(f"{where} step {step.id}: a prediction needs a {{#reveal}} part")
            elif words.choices:
                raise LessonError(f"{where} step {step.id}: has choices but lesson.yaml has no prediction")
            if step.check is not None and not words.hints:
                raise LessonError(f"{where} step {step.id}: a checked step needs hints ({{#hints}})")
        if language == "ko":
            source = (folder / "ko.md").read_text(encoding="utf-8")
            for wrong, right in KOREAN_TERMS.items():
                if wrong in source:
                    raise LessonError(f"{where}: write {right!r} (the Korean localization's term), not {wrong!r}")
    hint_counts = {language: [len(t.steps[i].hints) for i in ids] for language, t in texts.items()}
    if len(set(map(tuple, hint_counts.values()))) > 1:
        raise LessonError(f"{folder.name}: each step needs as many hints in every language: {hint_counts}")


def load_lesson(folder: Path) -> Lesson:
    where = f"{folder.name}/lesson.yaml"
    try:
        spec = yaml_load((folder / "lesson.yaml").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise LessonError(f"{where}: {error}") from None
    if not isinstance(spec, dict) or not isinstance(spec.get("steps"), list) or not spec["steps"]:
        raise LessonError(f"{where}: needs a list of steps")
    prefix = re.match(r"^(\d+)-(.+)$", folder.name)
    steps = tuple(_step(item, folder, where) for item in spec["steps"])
    if len({s.id for s in steps}) != len(steps):
        raise LessonError(f"{where}: step ids must be unique")
    texts = {}
    for language in LANGUAGES:
        path = folder / f"{language}.md"
        if not path.is_file():
            raise LessonError(
                f"{folder.name}: {language}.md is missing (every lesson is written in {', '.join(LANGUAGES)})"
            )
        texts[language] = _lesson_text(path)
    _check_texts(steps, texts, folder)
    if len([s for s in steps if s.check]) < 3 or not any(s.has_prediction for s in steps):
        raise LessonError(f"{where}: a lesson needs at least three checked steps and one prediction")
    return Lesson(
        slug=spec.get("slug") or (prefix[2] if prefix else folder.name),
        order=int(spec.get("order") or (prefix[1] if prefix else 0)),
        concepts=tuple(spec.get("concepts") or ()),
        steps=steps,
        texts=texts,
    )


def load_catalog(content: Path = CONTENT) -> Catalog:
    folders = sorted(p for p in content.iterdir() if p.is_dir() and (p / "lesson.yaml").exists())
    lessons = sorted((load_lesson(folder) for folder in folders), key=lambda lesson: (lesson.order, lesson.slug))
    if len({lesson.slug for lesson in lessons}) != len(lessons):
        raise LessonError("two lessons share a slug")
    return Catalog(tuple(lessons))


@cache
def catalog() -> Catalog:
    """The lessons of this site, loaded once per process (at start-up, by the app config)."""
    return load_catalog()
