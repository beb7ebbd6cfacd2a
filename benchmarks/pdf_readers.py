"""Which PDF library reads the five real reports best: seconds and text quality of pypdf, pypdfium2 and
pdfplumber on ../shared/data/pdf (issue 16.3).

Quality is measured against pdftotext (poppler, a reference only, not a runtime dependency):

* ``word F1``: overlap of the lower-cased word multisets of a reader's text and pdftotext's text;
* ``glued``: words of 16+ letters that pdftotext does not have (words run together, a lost space);
* ``split``: word pieces of 1-2 letters that pdftotext does not have as words (a word cut by a space);
* ``hyph``: lines that end in "-" before a lower-case line (hyphenations the reader must repair: the same
  for all, so a reader that drops them would be suspect);
* ``cols``: the two-column page 11 of the Liberia evaluation read in order (its left column's first
  sentence comes out whole).

Run: ``PYTHONPATH=src python benchmarks/pdf_readers.py [--skip pdfplumber]``.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "pdf"
LIBERIA = "independent_country_programme_evaluation_liberia_-_main_report_4121.pdf"
LIBERIA_COLUMN = (
    "The UNDP Independent Evaluation Office (IEO) conducts Independent Country Programme Evaluations (ICPEs)"
    " to gather and present evidence of the organization’s contributions"
)
_WORD = re.compile(r"[^\W\d_]+")
_HYPHEN_BREAK = re.compile(r"[^\W\d_]-\s*\n\s*[a-z]")
_SPACE = re.compile(r"\s+")


def pages_pypdf(path: Path) -> list[str]:
    import pypdf

    return [page.extract_text() or "" for page in pypdf.PdfReader(path).pages]


def pages_pypdfium2(path: Path) -> list[str]:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(path)
    try:
        return [doc[i].get_textpage().get_text_range().replace("\r\n", "\n") for i in range(len(doc))]
    finally:
        doc.close()


def pages_pdfplumber(path: Path) -> list[str]:
    import pdfplumber

    with pdfplumber.open(path) as pdf:
        return [page.extract_text() or "" for page in pdf.pages]


def pages_pdftotext(path: Path) -> list[str]:
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True)
    return out.stdout.decode("utf-8").split("\f")[:-1]


READERS: dict[str, Callable[[Path], list[str]]] = {
    "pypdf": pages_pypdf,
    "pypdfium2": pages_pypdfium2,
    "pdfplumber": pages_pdfplumber,
}


def words(text: str) -> list[str]:
    return [w.casefold() for w in _WORD.findall(text)]


def quality(text: str, reference: str) -> dict[str, float]:
    got, ref = Counter(words(text)), Counter(words(reference))
    common = sum((got & ref).values())
    precision = common / max(1, sum(got.values()))
    recall = common / max(1, sum(ref.values()))
    return {
        "f1": 2 * precision * recall / max(1e-9, precision + recall),
        "glued": sum(n for w, n in got.items() if len(w) >= 16 and w not in ref),
        "split": sum(n for w, n in got.items() if len(w) <= 2 and w not in ref),
        "hyph": len(_HYPHEN_BREAK.findall(text)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip", action="append", default=[], help="a reader to leave out")
    args = parser.parse_args()
    if shutil.which("pdftotext") is None:
        raise SystemExit("pdftotext (poppler-utils) is the reference: apt-get install poppler-utils")
    files = sorted(DATA.glob("*.pdf"))
    reference = {f.name: "\n".join(pages_pdftotext(f)) for f in files}
    print("| reader | file | pages | seconds | word F1 vs pdftotext | glued | split | hyph |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    totals: dict[str, float] = {}
    for name, read in READERS.items():
        if name in args.skip:
            continue
        for f in files:
            start = time.perf_counter()
            pages = read(f)
            seconds = time.perf_counter() - start
            totals[name] = totals.get(name, 0.0) + seconds
            q = quality("\n".join(pages), reference[f.name])
            print(
                f"| {name} | {f.name[:28]} | {len(pages)} | {seconds:.2f} | {q['f1']:.4f} | {q['glued']} "
                f"| {q['split']} | {q['hyph']} |"
            )
            if f.name == LIBERIA:
                page = _SPACE.sub(" ", pages[10])
                print(
                    f"|   {name} | Liberia p. 11 two columns in order | | | {LIBERIA_COLUMN in page} | | | |"
                )
    print()
    for name, seconds in totals.items():
        print(f"{name}: {seconds:.1f} s for the five files")


if __name__ == "__main__":
    main()
