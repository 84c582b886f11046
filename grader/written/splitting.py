"""Splitting a report's text into one answer per question.

A report numbers its answers in one of several ways (the question repeated in bold, a
`3)` line then paragraphs, bare `1.` items or paragraphs, `Q5-6` for two at once), with
section headings (`1.1 Supervised dataset`), lists inside answers and, often, a second
handout whose numbering starts again at 1. Every line that could start an answer is a
candidate; the markers kept are the chain that best fits (numbers increasing within a
handout, one switch to the next handout, at a heading naming it or where the numbering
starts again, the marker style the report uses, the text below matching the question's key
phrases). An answer whose marker is doubtful carries a flag instead of a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from grader.written.matching import coverage, spans
from grader.written.questions import Questions

MARKER = re.compile(
    r"^(?P<head>\#{1,6}\s*)?(?P<bullet>[-*+•>]\s+)?(?P<bold>\*\*|__|\*|_)?\s*"
    r"(?P<q>(?:questions?|q)\s*\.?\s*(?:n°|no\.?|#)?\s*)?\(?"
    r"(?P<n>\d{1,2})"
    r"(?:\s*(?:-|–|&|,|/|\+|and|et|to|à)\s*(?:q(?:uestion)?\s*\.?\s*)?(?P<m>\d{1,2}))?"
    r"(?P<term>\s*[.):]\s*(?!\d)|\s*[-–—]\s+|\s*(?:\*\*|__|\*|_)|\s+|$)",
    re.I,
)
SECTION = re.compile(r"^\s*(?:\#{1,6}\s*)?\d+(?:\.\d+)+\.?\s+\S")  # 1.1 Supervised dataset
HEADING = re.compile(r"^\s*\#{1,6}\s+\S")
# `Chapter 3`, `# Part 2: ...`, `TP 2`: a part of the report, of this lab or not
STRUCTURE = re.compile(
    r"^\s*(?:\#{1,6}\s*)?(?:\*\*)?"
    r"(?:chapter|chapitre|part|partie|tp|tme|lab|practical work|exercise|exercice)\s*[\w.-]{1,6}\b",
    re.I,
)
IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)|!\[\[[^\]]*\]\]")  # Markdown's, Obsidian's
NOTHING = "no numbered answer found: the report could not be split"
MAX_CANDIDATES = 1500
GAP = 0.15  # each question skipped by the chain
CONTINUES = 1.2  # a marker that continues a run of rejected ones (a list inside an answer)
SWITCH = 0.5  # moving to the next handout
OTHER_STYLE = 0.4  # a marker unlike most (`1.` among `- 1.` items): likely a list inside an answer
LISTED = 0.3  # a marker in a run of numbers that started again: a list inside an answer?
SKIPPED = 0.5  # each marker before the chain's first one
LATER = 1e-6  # of two equal chains, the one whose markers come later (a list, then the answer)
REORDER = 1.0  # a marked answer (`**Q4**`) out of order: marked answers may come in any order


@dataclass
class Answer:
    text: str
    flags: list[str] = field(default_factory=list)  # why the split is unsure of it
    together: tuple[str, ...] = ()  # the question keys answered with it (`Q5-6`)


@dataclass
class Split:
    answers: dict[str, Answer] = field(default_factory=dict)  # question key -> its answer
    notes: list[str] = field(default_factory=list)  # about the whole report


@dataclass
class _Candidate:
    line: int
    n: int
    m: int
    strong: bool
    style: tuple
    rest: str  # the line after the marker
    heading_handout: int | None = None  # the handout a heading above it names: not an earlier one
    listed: bool = False  # in a run of numbers that started again at 1: a list inside an answer?


def _candidate(line_no: int, line: str) -> _Candidate | None:
    stripped = line.strip()
    m = MARKER.match(stripped)
    if not m or SECTION.match(stripped):
        return None
    n, last = int(m["n"]), int(m["m"] or m["n"])
    term = m["term"].strip()
    rest = stripped[m.end() :].strip()
    if m["q"] is None:
        if not term or term in ("-", "–", "—") and not m["bold"]:
            return None  # `3 layers`, `2 - ...`: not a marker without `Q`
    elif not m["term"].strip() and rest[:1].isalpha() and (m["term"] == "" or m["q"][:1].islower()):
        return None  # `Question marks`, `question 3 showed that` (a line wrapped): no marker
    if last < n or n == 0:
        return None
    bold = bool(m["bold"]) or stripped.startswith(("**", "__"))
    # `## 2. Implementation` may be a section's heading: as weak as a bare number
    titled = m["head"] and m["q"] is None and "?" not in rest and 0 < len(rest.split()) <= 6
    strong = bool(m["q"] or bold or (m["head"] and not titled) or "?" in rest[:400])
    style = (bool(m["head"]), bool(m["bullet"]), bold, bool(m["q"]), term[:1])
    return _Candidate(line_no, n, last, strong, style, rest)


def _heading_handout(lines: list[str], i: int, questions: Questions) -> int | None:
    """The handout a heading line names (`# TP 1-cd`, `Part 2: CNNs`), else None. Without
    markdown, a heading is a short line that starts a paragraph, not a line wrapped in one."""
    line = lines[i]
    text = line.strip().strip("#*_ ").strip()
    marked = HEADING.match(line) or line.strip().startswith(("**", "__"))
    before = next((ln.strip() for ln in reversed(lines[max(0, i - 3) : i]) if ln.strip()), "")
    starts = (  # `Chapter 2` above it counts
        not before
        or before.endswith((".", "?", "!", ":", ")", "*", "$"))
        or HEADING.match(before)
        or len(before.split()) <= 4
    )
    plain = (
        0 < len(text.split()) <= 8
        and text[:1].isupper() | text[:1].isdigit()
        and starts
        and not text.endswith((".", "?", ",", ";"))
    )
    marker = _candidate(0, line)
    numbered = marker and (marker.strong or not marked)  # `1. Convolutional layers:`: an item
    if not (marked or plain) or len(text.split()) > 12 or numbered:
        return None
    named = [k for k, handout in enumerate(questions.handouts) if spans(text, handout.headings)]
    return named[0] if len(named) == 1 else None


def _title(rest: str) -> bool:
    """`Training from scratch`: the words of a section's title, not an answer."""
    words = rest.split()
    return (
        0 < len(words) <= 5
        and rest[:1].isupper()
        and not any(ch.isdigit() or ch in ".?!:=,;$" for ch in rest)
    )


def _strip_question(rest: str) -> str:
    """The answer on a marker line, without the question repeated before it."""
    if rest.startswith(("**", "__")) or "**" in rest[:3]:
        end = rest.find("**", 2) if rest.startswith("**") else rest.find("**")
        if end >= 0:
            return rest[end + 2 :].strip()
    if "**" in rest:
        return rest[rest.rfind("**") + 2 :].strip() if rest.count("**") % 2 else rest
    if "?" in rest:
        return rest[rest.rfind("?") + 1 :].strip()
    return rest.removeprefix("* ").removeprefix("_ ")  # the end of `*3.*`


def _wrapped_question(c: _Candidate, below: list[str]) -> int:
    """How many lines below a marker continue its question (a PDF wraps a long question over
    lines: `3. Why is it important to add activation functions between linear` /
    `transformations?`): up to the first line ending in `?`, at most 3, none blank."""
    tail = c.rest.rsplit("?", 1)[-1]  # a second question may start after the first one's `?`
    if len(tail.split()) < (3 if "?" in c.rest else 6) or not tail.strip()[:1].isupper():
        return 0
    for k, line in enumerate(below[:3], 1):
        if not line.strip() or _candidate(0, line):
            return 0
        if line.rstrip().endswith("?") or "? " in line:
            return k
    return 0


def _body(lines: list[str]) -> str:
    kept = [IMAGE.sub("[figure]", ln.rstrip()) for ln in lines if not SECTION.match(ln)]
    while kept and (not kept[-1].strip() or HEADING.match(kept[-1])):
        kept.pop()
    while kept and not kept[0].strip():
        kept.pop(0)
    return "\n".join(kept).strip()


def split(text: str, questions: Questions) -> Split:
    lines = text.splitlines()
    handouts = [h.name for h in questions.handouts]
    result = Split()
    forced: int | None = None
    headings: list[tuple[int, int]] = []  # (line, handout) of each heading naming a handout
    breaks: list[int] = []  # the lines of `Chapter 3`-like headings: an answer ends there
    candidates: list[_Candidate] = []
    for i, line in enumerate(lines):
        h = _heading_handout(lines, i, questions)
        if h is not None and h != forced:
            forced = h
            headings.append((i, h))
            continue
        if h is not None:
            continue
        if STRUCTURE.match(line) and len(line.split()) <= 8 and not _candidate(i, line):
            forced = None  # a part that names no handout of the lab: free again
            breaks.append(i)
            continue
        c = _candidate(i, line)
        if c is not None:
            c.heading_handout = forced
            candidates.append(c)
    marked = sum(c.strong for c in candidates) >= 3
    if marked:  # the report marks its answers: a bare number is a list item, unless unmarked
        claimed = {n for c in candidates if c.strong for n in range(c.n, c.m + 1)}
        candidates = [c for c in candidates if c.strong or not claimed & set(range(c.n, c.m + 1))]
    if len(candidates) > MAX_CANDIDATES:  # the chain's search is quadratic in them
        result.notes.append(f"more than {MAX_CANDIDATES} numbered lines: the rest is not split")
        candidates = candidates[:MAX_CANDIDATES]
    if not candidates:
        if text.strip():
            result.notes.append(NOTHING)
        return result
    chain = _best_chain(candidates, lines, questions, handouts, marked)
    chain, repeated = _without_repeats(chain)
    if repeated:
        result.notes.append(
            f"{repeated} numbered answers start the numbering again where it is already "
            "answered (another part of the course?): left out"
        )
    position = {id(d): k for k, d in enumerate(candidates)}
    if not headings and len({h for _, h in chain}) == 1 and len(handouts) > 1:
        result.notes.append(
            f"no heading names a handout: {handouts[chain[0][1]]} inferred from the "
            "numbering and the key phrases of the answers"
        )
    accepted = {id(c) for c, _ in chain}
    for k, (c, h) in enumerate(chain):
        end = chain[k + 1][0].line if k + 1 < len(chain) else len(lines)
        end = min(
            [end] + [ln for ln, _ in headings if ln > c.line] + [b for b in breaks if b > c.line]
        )
        first = "" if c.style[0] else _strip_question(c.rest)  # a heading holds the question
        skip = _wrapped_question(c, lines[c.line + 1 : end])
        if skip:
            first = lines[c.line + skip].split("?")[-1].strip()
        body = _body([first] + lines[c.line + 1 + skip : end])
        keys = [f"{handouts[h]}-Q{n}" for n in range(c.n, c.m + 1)]
        flags = []
        inside = [d for d in candidates if c.line < d.line < end and id(d) not in accepted]
        answered = {n for d, g in chain if g == h for n in range(d.n, d.m + 1)}
        stray = [  # a number inside the answer that may start the next or an unanswered question
            d.n
            for d in inside
            if not _title(d.rest)
            and (
                d.n == c.m + 1
                or (
                    d.n not in answered and d.n > 1 and candidates[position[id(d)] - 1].n != d.n - 1
                )
            )
        ]
        if stray and min(stray) <= questions.highest(handouts[h]):
            flags.append(f"a line numbered {min(stray)} inside this answer may start Q{min(stray)}")
        q = questions.get(keys[0])
        if q is not None and not c.strong and q.key_points and coverage(q, body) == 0:
            better = [
                o.label
                for o in questions.of(handouts[h])
                if o.number not in answered and o.key_points and coverage(o, body) >= 0.6
            ]
            if better:
                flags.append(f"reads like {' or '.join(better[:2])} rather than {q.label}")
        if not body:
            flags.append("the marker is followed by no text")
        for key in keys:
            if key in result.answers:  # answered twice: keep both, say so
                result.answers[key].text += "\n\n" + body
                result.answers[key].flags.append("answered twice in the report")
            elif questions.get(key) is not None:
                result.answers[key] = Answer(body, list(flags), tuple(x for x in keys if x != key))
    return result


def _without_repeats(
    chain: list[tuple[_Candidate, int]],
) -> tuple[list[tuple[_Candidate, int]], int]:
    """The chain without the markers of a numbering started again at 1 that only repeats
    questions already answered: another part of the course, not a second answer."""
    seen: set[tuple[int, int]] = set()
    kept, left = [], 0
    for c, h in chain:
        numbers = {(h, n) for n in range(c.n, c.m + 1)}
        if c.listed and numbers <= seen:
            left += 1
            continue
        seen |= numbers
        kept.append((c, h))
    return kept, left


def _best_chain(
    cands: list[_Candidate],
    lines: list[str],
    questions: Questions,
    handouts: list[str],
    marked: bool,
) -> list[tuple[_Candidate, int]]:
    """The markers kept, each with its handout: the highest-scoring chain, from each candidate's
    best predecessor among those before it in reading order."""
    high, run = 0, None
    for k, c in enumerate(cands):
        if k and c.heading_handout not in (None, cands[k - 1].heading_handout):  # a new handout
            high, run = 0, None
        if run is not None and c.n == cands[k - 1].m + 1:
            c.listed = True
        elif c.n == 1 <= high:
            c.listed, run = True, k
        else:
            run = None
        high = max(high, c.m)
    styles: dict[tuple, int] = {}
    for c in cands:
        styles[c.style] = styles.get(c.style, 0) + 1
    common = max(styles, key=lambda s: styles[s])
    tops = [questions.highest(h) for h in handouts]
    score: dict[tuple[int, int], float] = {}
    for j, c in enumerate(cands):
        nxt = cands[j + 1].line if j + 1 < len(cands) else min(len(lines), c.line + 40)
        below = c.rest + "\n" + "\n".join(lines[c.line + 1 : nxt])[:1500]
        for h, name in enumerate(handouts):
            if c.m > tops[h] or (c.heading_handout is not None and h < c.heading_handout):
                continue
            q = questions.get(f"{name}-Q{c.n}")
            align = coverage(q, below) if q is not None else 0.0
            base = (2.0 if c.strong else 1.0) * (1.0 if c.style == common else OTHER_STYLE)
            score[j, h] = base + 1.5 * align + LATER * j - LISTED * c.listed
    best: dict[tuple[int, int], tuple[float, tuple[int, int] | None]] = {}
    for j, c in enumerate(cands):
        for h in range(len(handouts)):
            if (j, h) not in score:
                continue
            before = (
                cands[j - 1] if j else None
            )  # rejected unless it is the chain's previous marker
            options: list[tuple[float, tuple[int, int] | None]] = [
                (
                    score[j, h]
                    - GAP * (c.n - 1)
                    - SKIPPED * j
                    - SWITCH * (h > 0 and c.heading_handout != h)
                    - CONTINUES * (before is not None and before.n == c.n - 1),
                    None,
                )
            ]
            for (i, g), (total, _) in best.items():
                prev = cands[i]
                if i >= j:
                    continue
                # continuing a rejected marker's numbering (unless it is also the kept one's)
                cont = (
                    CONTINUES if i != j - 1 and before.n == c.n - 1 and before.n != prev.m else 0.0
                )
                # a heading naming handout h between the two markers
                named = c.heading_handout == h and prev.heading_handout != h
                if g == h and c.n > prev.m:
                    options.append((total + score[j, h] - GAP * (c.n - prev.m - 1) - cont, (i, g)))
                elif g < h and (named or (c.n <= 3 and prev.m >= tops[g] // 2)):
                    switch = 0.0 if named else SWITCH
                    options.append((total + score[j, h] - switch - GAP * (c.n - 1) - cont, (i, g)))
                elif g == h and marked and c.strong:
                    options.append((total + score[j, h] - REORDER - cont, (i, g)))
            best[j, h] = max(options, key=lambda o: o[0])
    node = max(best, key=lambda k: (best[k][0], k[0]))
    chain = []
    while node is not None:
        chain.append((cands[node[0]], node[1]))
        node = best[node][1]
    return chain[::-1]


def split_documents(documents: list[tuple[str, str]], questions: Questions) -> Split:
    """One split over several documents of a report (a PDF per handout, say): a question
    answered in two of them keeps both, flagged."""
    whole = Split()
    for name, text in documents:
        part = split(text, questions)
        whole.notes += [f"{name}: {note}" for note in part.notes if note != NOTHING]
        for key, answer in part.answers.items():
            if key in whole.answers:
                whole.answers[key].text += f"\n\n[{name}]\n{answer.text}"
                whole.answers[key].flags.append(f"answered again in {name}")
            else:
                whole.answers[key] = answer
    if documents and not whole.answers:
        whole.notes.append(f"{', '.join(name for name, _ in documents)}: {NOTHING}")
    return whole
