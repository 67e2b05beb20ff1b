"""grader.mathml: the notebooks' TeX as MathML for feedback pages (browsers render it offline, no MathJax).

Every formula of every notebook converts without an unknown command into well-formed XML; chosen formulas
give the MathML written out by hand here; Markdown keeps its code and escaped dollars, and nbconvert's
Markdown renderer passes the MathML through untouched."""
import html
import re
import xml.etree.ElementTree as ET

import nbformat
import pytest
from conftest import ROOT

from grader.mathml import markdown_with_mathml, to_mathml


def formulas():
    """(notebook, Markdown source) of every Markdown cell with math, in notebooks/ and solutions/."""
    for path in sorted(ROOT.glob("notebooks/*/*.ipynb")) + sorted(ROOT.glob("solutions/*/*.ipynb")):
        for cell in nbformat.read(path, 4).cells:
            if cell.cell_type == "markdown" and "$" in cell.source:
                yield path.name, cell.source


def body(tex: str, display: bool = False) -> str:
    """The MathML of ``tex`` between <semantics><mrow> and </mrow><annotation."""
    mathml, unknown = to_mathml(tex, display)
    assert unknown == []
    return re.search(r"<semantics><mrow>(.*)</mrow><annotation", mathml).group(1)


def test_every_formula_of_the_notebooks_converts_into_well_formed_mathml():
    count = 0
    for name, source in formulas():
        text, unknown = markdown_with_mathml(source)
        assert unknown == [], (name, unknown)
        assert not re.search(r"(?<!\\)\$", re.sub(r"`[^`]*`", "", text)), (name, text)  # no formula left behind
        for math in re.findall(r"<math.*?</math>", text, re.S):
            ET.fromstring(math)  # well-formed XML (raises otherwise)
            count += 1
    assert count > 300


@pytest.mark.parametrize("tex, expected", [
    (r"\frac{a}{b}", "<mfrac><mi>a</mi><mi>b</mi></mfrac>"),
    (r"x_i^2", "<msubsup><mi>x</mi><mi>i</mi><mn>2</mn></msubsup>"),
    (r"a - 1.5", "<mi>a</mi><mo>\u2212</mo><mn>1.5</mn>"),
    (r"\sigma'(z)", '<msup><mi>\u03c3</mi><mo>\u2032</mo></msup><mo stretchy="false">(</mo><mi>z</mi>'
                    '<mo stretchy="false">)</mo>'),
    (r"\sum_{i=1}^N x_i", '<munderover><mo movablelimits="true" largeop="true">\u2211</mo><mrow><mi>i</mi><mo>=</mo>'
                          '<mn>1</mn></mrow><mi>N</mi></munderover><msub><mi>x</mi><mi>i</mi></msub>'),
    (r"\mathbb{R}^{D}", "<msup><mi>\u211d</mi><mi>D</mi></msup>"),
    (r"\mathbf{W}", "<mi>\U0001d416</mi>"),
    (r"\mathrm{ReLU}", '<mi mathvariant="normal">ReLU</mi>'),
    (r"\hat y", '<mover accent="true"><mi>y</mi><mo stretchy="false">^</mo></mover>'),
    (r"W^\top", '<msup><mi>W</mi><mi mathvariant="normal">\u22a4</mi></msup>'),
    (r"\text{if } z \le 0", '<mtext>if </mtext><mi>z</mi><mo>\u2264</mo><mn>0</mn>'),
    (r"\left( a \right)", '<mrow><mo stretchy="true" fence="true">(</mo><mi>a</mi>'
                          '<mo stretchy="true" fence="true">)</mo></mrow>'),
    (r"\begin{cases} 1 & z > 0 \\ 0 & z \le 0 \end{cases}",
     '<mrow><mo stretchy="true" fence="true">{</mo><mtable displaystyle="false">'
     '<mtr><mtd style="text-align: left"><mn>1</mn></mtd><mtd style="text-align: left"><mrow><mi>z</mi><mo>&gt;</mo><mn>0</mn>'
     '</mrow></mtd></mtr><mtr><mtd style="text-align: left"><mn>0</mn></mtd><mtd style="text-align: left"><mrow><mi>z</mi>'
     '<mo>\u2264</mo><mn>0</mn></mrow></mtd></mtr></mtable></mrow>'),
])
def test_chosen_formulas_give_the_mathml_written_by_hand(tex, expected):
    assert body(tex) in (expected, f"<mrow>{expected}</mrow>")  # (several items are one row)


def test_display_math_and_unknown_commands():
    mathml, unknown = to_mathml(r"\frobnicate{x}", display=True)
    assert mathml.startswith('<math display="block">') and unknown == [r"\frobnicate"]
    assert "<mtext>&#92;frobnicate</mtext>" in mathml


def test_markdown_keeps_code_escaped_dollars_and_gives_markdown_nothing_to_act_on():
    text, _ = markdown_with_mathml("Cost `$x$` and \\$5, not $a_1 * b_2$:\n\n```\n$y$\n```\n\n$$|x|_*$$")
    assert text.startswith("Cost `$x$` and \\$5, not <math><semantics>") and "```\n$y$\n```" in text
    assert text.count("<math") == 2 and '<math display="block">' in text
    maths = "".join(re.findall(r"<math.*?</math>", text, re.S))
    assert not re.search(r"[*_`|$\\]", maths), maths


def test_nbconverts_markdown_renderer_passes_the_mathml_through():
    from nbconvert.filters.markdown_mistune import markdown2html_mistune
    text, _ = markdown_with_mathml("A table:\n\n| a | b |\n|---|---|\n| $x_1$ | $|y|$ |\n\nand $a*b*c$ inline.")
    rendered = markdown2html_mistune(text)
    for math in re.findall(r"<math.*?</math>", text, re.S):
        assert html.unescape(math) in html.unescape(rendered)  # (mistune may write a character or its entity)
    assert rendered.count("<td>") == 2 and "<em>" not in rendered
