"""Every citation of the reference docs in the tree points at a section or note that exists.

Code cites the protocol as "docs/protocol.md" followed by sections (section sign and number) and
the target's facts as "docs/esp32-notes.md, note N" (or "notes N-M"). Older forms that named no
document in the repository fail too, as does a section sign with no document before it.
"""

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PROTOCOL = "docs/protocol.md"
NOTES = "docs/esp32-notes.md"
SELF = "tests/test_docs_citations.py"  # its patterns would cite themselves

SECTION_SIGN = "\u00a7"
SECTION_HEADING = re.compile(r"^#{2,6} (\d+(?:\.\d+)*)\.? ", re.M)
NOTE_HEADING = re.compile(r"^#{2,6} Note (\d+)\. ", re.M)
# "<doc>" then one or more section signs with numbers, joined by commas, "and" or a dash.
_SECTIONS = rf"{SECTION_SIGN}\s?\d+(?:\.\d+)*(?:(?:\s*(?:,|and|-)\s*){SECTION_SIGN}\s?\d+(?:\.\d+)*)*"
PROTOCOL_CITE = re.compile(rf"docs/protocol\.md\W{{0,3}}({_SECTIONS})")
SECTION_NUMBER = re.compile(rf"{SECTION_SIGN}\s?(\d+(?:\.\d+)*)")
BARE_SECTION = re.compile(rf"{SECTION_SIGN}\s?\d")
_NOTE_LIST = r"notes?\s+(\d+(?:\s*(?:-|,|and)\s*\d+)*)"
NOTES_CITE = re.compile(rf"docs/esp32-notes\.md\W{{0,3}}{_NOTE_LIST}")
NOTES_INSIDE = re.compile(rf"\b{_NOTE_LIST}")  # docs/esp32-notes.md citing its own notes
OLD_FORMS = re.compile(r"field\s+notes?\s+\d[\d.-]*|\bspec(?:'s)?,?\s+(?:section\s+)?\d[\d.]*"
                       r"|protocol\s+spec|\bspec\s+section", re.I)
# A citation may wrap: the next line's comment marker or indent is not part of it.
LINE_BREAK = re.compile(r"\s*\n\s*(?:#+\s*|//+\s*|\*\s+)?")


def tree_texts():
    """(path, text with wrapped lines joined) of every tracked or new, not ignored, text file."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                            cwd=REPO, capture_output=True, text=True, check=True).stdout
    for name in listed.splitlines():
        path = REPO / name
        if name == SELF or not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # images, archives
        yield name, LINE_BREAK.sub(" ", text)


def note_numbers(listed):
    """The note numbers of "3", "1-9", "6 and 7", "32-34, 36"."""
    numbers = set()
    for part in re.split(r"\s*(?:,|and)\s*", listed):
        low, _, high = part.partition("-")
        numbers.update(range(int(low), int(high or low) + 1))
    return numbers


def citation_problems(name, text, sections, notes):
    """(problems, how many citations) of one file's joined text."""
    problems, found = [], 0
    cited_spans = []
    for match in PROTOCOL_CITE.finditer(text):
        cited_spans.append(match.span())
        for number in SECTION_NUMBER.findall(match.group(1)):
            found += 1
            if number not in sections:
                problems.append(f"{name}: {PROTOCOL} has no section {number}")
    for match in BARE_SECTION.finditer(text):
        inside = any(start <= match.start() < end for start, end in cited_spans)
        if name == PROTOCOL:
            found += 1
            number = SECTION_NUMBER.match(text, match.start()).group(1)
            if number not in sections:
                problems.append(f"{name}: cites its own section {number}, which it lacks")
        elif not inside:
            problems.append(f"{name}: a section sign without {PROTOCOL} before it: "
                            f"{text[match.start():match.start() + 20]!r}")
    note_cites = NOTES_INSIDE if name == NOTES else NOTES_CITE
    for match in note_cites.finditer(text):
        for number in sorted(note_numbers(match.group(1))):
            found += 1
            if number not in notes:
                problems.append(f"{name}: {NOTES} has no note {number}")
    for match in OLD_FORMS.finditer(text):
        problems.append(f"{name}: {match.group(0)!r} names no document in docs/")
    return problems, found


def test_every_citation_has_its_target():
    sections = set(SECTION_HEADING.findall((REPO / PROTOCOL).read_text(encoding="utf-8")))
    notes = {int(n) for n in NOTE_HEADING.findall((REPO / NOTES).read_text(encoding="utf-8"))}
    assert {"2.7", "7.2", "9"} <= sections and {1, 31} <= notes  # the headings were read
    problems, found_outside_docs = [], 0
    for name, text in tree_texts():
        file_problems, file_found = citation_problems(name, text, sections, notes)
        problems += file_problems
        if not name.startswith("docs/"):
            found_outside_docs += file_found
    assert not problems, "\n".join(problems)
    assert found_outside_docs > 40  # the code cites both often; too few means a broken scan
