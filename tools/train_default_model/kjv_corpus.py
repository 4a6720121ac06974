"""The King James Bible from Debian's bible-kjv package, split into training and held-out text.

The text comes from `bible -l100000 Gen1:1-Rev22:21` (the whole Bible, one verse a line, no line
wrapping). Chapter headings ("Genesis 1") and verse numbers are dropped: each split is plain text,
one verse a line, in canonical order. The held-out split is whole books, never trained on: the
last five books of the New Testament (1 John, 2 John, 3 John, Jude, Revelation).

Run as a script it writes the two splits:
  /usr/bin/python3 tools/train_default_model/kjv_corpus.py --out_dir=DIR
giving DIR/train.txt and DIR/heldout.txt.
"""

import argparse
import os
import re
import subprocess

HELD_OUT_BOOKS = ("1 John", "2 John", "3 John", "Jude", "Revelation")

_CHAPTER = re.compile(r"^(\S.*) (\d+)$")
_VERSE = re.compile(r"^\s+(\d+) (.*)$")


def read_books(bible_command="bible"):
    """Returns [(book name, [verse text, ...]), ...] in canonical order."""
    try:
        out = subprocess.run([bible_command, "-l100000", "Gen1:1-Rev22:21"], check=True,
                             capture_output=True, text=True).stdout
    except FileNotFoundError:
        raise SystemExit("kjv_corpus: the `bible` command is missing; install Debian's bible-kjv "
                         "package (scripts/install_deps.sh does)")
    books = []
    for line in out.splitlines():
        if not line.strip():
            continue
        chapter = _CHAPTER.match(line)
        if chapter:
            name = chapter.group(1)
            if not books or books[-1][0] != name:
                books.append((name, []))
            continue
        verse = _VERSE.match(line)
        if not verse or not books:
            raise SystemExit("kjv_corpus: unexpected line in bible's output: %r" % line[:80])
        books[-1][1].append(verse.group(2).strip())
    if len(books) != 66:
        raise SystemExit("kjv_corpus: expected 66 books, read %d" % len(books))
    return books


def split_text(books):
    """(training text, held-out text): one verse a line, each ending in a newline."""
    train, heldout = [], []
    for name, verses in books:
        (heldout if name in HELD_OUT_BOOKS else train).extend(verses)
    return "".join(v + "\n" for v in train), "".join(v + "\n" for v in heldout)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out_dir", required=True)
    args = parser.parse_args()
    train, heldout = split_text(read_books())
    os.makedirs(args.out_dir, exist_ok=True)
    for name, text in (("train.txt", train), ("heldout.txt", heldout)):
        with open(os.path.join(args.out_dir, name), "w", encoding="utf-8") as f:
            f.write(text)
        print("%s: %d verses, %d words" % (name, text.count("\n"), len(text.split())))


if __name__ == "__main__":
    main()
