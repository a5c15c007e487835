"""The generated sections of docs/benchmarks.md: each script owns the text between its two markers."""
import os


def put_block(doc, name, block):
    """Replaces the block between '<!-- NAME: begin' and '<!-- NAME: end -->' in doc, or appends it."""
    text = open(doc).read() if os.path.exists(doc) else ""
    b, e = "<!-- %s: begin" % name, "<!-- %s: end -->" % name
    if b in text:
        text = text[:text.index(b)] + block + text[text.index(e) + len(e):]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    open(doc, "w").write(text)
