"""The TeX of the notebooks' Markdown as MathML, so that feedback pages show formulas offline.

Browsers render MathML themselves (MathML Core: Chrome and Edge 109+, Firefox, Safari), so
a feedback page needs neither MathJax from a CDN nor a copy of it.  ``to_mathml(tex,
display)`` converts the subset of TeX that course notebooks use: letters, numbers and
operators, ``^`` and ``_``, primes, groups, ``\\frac`` (``\\dfrac``, ``\\tfrac``),
``\\sqrt``, accents (``\\hat``, ``\\bar``, ``\\tilde``, ``\\vec``, ``\\dot``, ``\\overline``),
``\\underbrace``/``\\overbrace``, fonts (``\\mathrm``, ``\\mathbf``, ``\\mathbb``,
``\\mathcal``, ``\\boldsymbol``, ``\\operatorname``), ``\\text``, spaces, delimiters
(``\\left``/``\\right``, ``\\bigl`` ...), the environments ``cases``, ``aligned``,
``align``, ``array``, ``matrix`` (and ``pmatrix``, ``bmatrix``, ``vmatrix``), Greek
letters, relations, arrows and the named functions (``\\log``, ``\\max`` ...).  A
command it does not know is shown as its TeX text and listed in ``unknown``.

``markdown_with_mathml(source)`` replaces the math of a Markdown text (``$...$``,
``$$...$$``, ``\\(...\\)``, ``\\[...\\]``, and bare ``\\begin{align}`` ...
environments), leaving code spans and fenced code alone.
"""
from __future__ import annotations

import re

GREEK = {name: chr(code) for name, code in (
    ("alpha", 0x3B1), ("beta", 0x3B2), ("gamma", 0x3B3), ("delta", 0x3B4), ("epsilon", 0x3F5),
    ("varepsilon", 0x3B5), ("zeta", 0x3B6), ("eta", 0x3B7), ("theta", 0x3B8), ("vartheta", 0x3D1),
    ("iota", 0x3B9), ("kappa", 0x3BA), ("lambda", 0x3BB), ("mu", 0x3BC), ("nu", 0x3BD), ("xi", 0x3BE),
    ("pi", 0x3C0), ("varpi", 0x3D6), ("rho", 0x3C1), ("varrho", 0x3F1), ("sigma", 0x3C3), ("varsigma", 0x3C2),
    ("tau", 0x3C4), ("upsilon", 0x3C5), ("phi", 0x3D5), ("varphi", 0x3C6), ("chi", 0x3C7), ("psi", 0x3C8),
    ("omega", 0x3C9), ("Gamma", 0x393), ("Delta", 0x394), ("Theta", 0x398), ("Lambda", 0x39B), ("Xi", 0x39E),
    ("Pi", 0x3A0), ("Sigma", 0x3A3), ("Upsilon", 0x3A5), ("Phi", 0x3A6), ("Psi", 0x3A8), ("Omega", 0x3A9))}
IDENTIFIERS = {"ell": "\u2113", "infty": "\u221E", "partial": "\u2202", "nabla": "\u2207", "emptyset": "\u2205",
               "varnothing": "\u2205", "hbar": "\u210F", "imath": "\u0131", "Re": "\u211C", "Im": "\u2111",
               "aleph": "\u2135", "top": "\u22A4", "bot": "\u22A5", "intercal": "\u22BA"}
OPERATORS = {
    "cdot": "\u22C5", "times": "\u00D7", "div": "\u00F7", "odot": "\u2299", "otimes": "\u2297", "oplus": "\u2295",
    "circ": "\u2218", "ast": "\u2217", "star": "\u22C6", "pm": "\u00B1", "mp": "\u2213", "setminus": "\u2216",
    "le": "\u2264", "leq": "\u2264", "ge": "\u2265", "geq": "\u2265", "ne": "\u2260", "neq": "\u2260",
    "ll": "\u226A", "gg": "\u226B", "approx": "\u2248", "sim": "\u223C", "simeq": "\u2243", "cong": "\u2245",
    "equiv": "\u2261", "propto": "\u221D", "in": "\u2208", "notin": "\u2209", "ni": "\u220B",
    "subset": "\u2282", "subseteq": "\u2286", "supset": "\u2283", "supseteq": "\u2287", "cup": "\u222A",
    "cap": "\u2229", "wedge": "\u2227", "land": "\u2227", "vee": "\u2228", "lor": "\u2228", "neg": "\u00AC",
    "lnot": "\u00AC", "forall": "\u2200", "exists": "\u2203", "to": "\u2192", "rightarrow": "\u2192",
    "leftarrow": "\u2190", "gets": "\u2190", "leftrightarrow": "\u2194", "Rightarrow": "\u21D2",
    "Leftarrow": "\u21D0", "Leftrightarrow": "\u21D4", "implies": "\u27F9", "iff": "\u27FA", "mapsto": "\u21A6",
    "longrightarrow": "\u27F6", "uparrow": "\u2191", "downarrow": "\u2193", "mid": "\u2223", "parallel": "\u2225",
    "perp": "\u22A5", "ldots": "\u2026", "dots": "\u2026", "cdots": "\u22EF", "vdots": "\u22EE",
    "ddots": "\u22F1", "prime": "\u2032", "langle": "\u27E8", "rangle": "\u27E9", "lceil": "\u2308",
    "rceil": "\u2309", "lfloor": "\u230A", "rfloor": "\u230B", "vert": "|", "Vert": "\u2016", "lvert": "|",
    "rvert": "|", "lVert": "\u2016", "rVert": "\u2016", "colon": ":", "triangleq": "\u225C", "coloneqq": "\u2254",
    "bullet": "\u2219", "dagger": "\u2020", "angle": "\u2220", "therefore": "\u2234", "because": "\u2235",
}
LARGE = {"sum": "\u2211", "prod": "\u220F", "int": "\u222B", "oint": "\u222E", "bigcup": "\u22C3",
         "bigcap": "\u22C2", "coprod": "\u2210"}
FUNCTIONS = {"log", "ln", "exp", "sin", "cos", "tan", "sec", "csc", "cot", "sinh", "cosh", "tanh", "coth",
             "arcsin", "arccos", "arctan", "det", "dim", "ker", "deg", "gcd", "Pr", "hom", "arg"}
LIMIT_FUNCTIONS = {"max", "min", "lim", "sup", "inf", "limsup", "liminf", "argmax", "argmin"}
ACCENTS = {"hat": "^", "widehat": "^", "bar": "\u00AF", "overline": "\u00AF", "tilde": "~", "widetilde": "~",
           "vec": "\u2192", "dot": "\u02D9", "ddot": "\u00A8", "check": "\u02C7", "breve": "\u02D8",
           "acute": "\u00B4", "grave": "`", "overrightarrow": "\u2192", "overleftarrow": "\u2190",
           "overleftrightarrow": "\u2194"}
FONTS = {"mathrm": "normal", "textrm": "normal", "mathbf": "bold", "textbf": "bold", "boldsymbol": "bold-italic",
         "bm": "bold-italic", "mathit": "italic", "textit": "italic", "mathbb": "double-struck",
         "mathcal": "script", "mathscr": "script", "mathfrak": "fraktur", "mathsf": "sans-serif",
         "mathtt": "monospace", "texttt": "monospace", "operatorname": "normal"}
TEXTS = {"text", "textrm", "textbf", "textit", "texttt", "mbox", "textnormal"}
SPACES = {",": "0.1667em", ":": "0.2222em", ">": "0.2222em", ";": "0.2778em", " ": "0.25em", "quad": "1em",
          "qquad": "2em", "enspace": "0.5em", "thinspace": "0.1667em", "!": "-0.1667em"}
SIZED = {"big", "Big", "bigg", "Bigg", "bigl", "Bigl", "biggl", "Biggl", "bigr", "Bigr", "biggr", "Biggr",
         "bigm", "Bigm"}
DELIMITERS = {"(": "(", ")": ")", "[": "[", "]": "]", "\\{": "{", "\\}": "}", "|": "|", "\\|": "\u2016",
              ".": "", "/": "/", "\\langle": "\u27E8", "\\rangle": "\u27E9", "\\lvert": "|", "\\rvert": "|",
              "\\lVert": "\u2016", "\\rVert": "\u2016", "\\vert": "|", "\\Vert": "\u2016", "\\lceil": "\u2308",
              "\\rceil": "\u2309", "\\lfloor": "\u230A", "\\rfloor": "\u230B", "<": "\u27E8", ">": "\u27E9"}
MATRICES = {"matrix": ("", ""), "pmatrix": ("(", ")"), "bmatrix": ("[", "]"), "Bmatrix": ("{", "}"),
            "vmatrix": ("|", "|"), "Vmatrix": ("\u2016", "\u2016"), "smallmatrix": ("", "")}
_TOKEN = re.compile(r"\\[A-Za-z]+\*?|\\.|[0-9]+(?:\.[0-9]+)?|\s+|.", re.S)


#: the first letter (A, a) and digit of each alphabet of Unicode's mathematical letters, and the letters
#: that live elsewhere (the "holes" of that block)
_ALPHABETS = {"bold": (0x1D400, 0x1D41A, 0x1D7CE), "italic": (0x1D434, 0x1D44E, None),
              "bold-italic": (0x1D468, 0x1D482, 0x1D7CE), "script": (0x1D49C, 0x1D4B6, None),
              "fraktur": (0x1D504, 0x1D51E, None), "double-struck": (0x1D538, 0x1D552, 0x1D7D8),
              "sans-serif": (0x1D5A0, 0x1D5BA, 0x1D7E2), "monospace": (0x1D670, 0x1D68A, 0x1D7F6)}
_HOLES = {("italic", "h"): "\u210E", ("script", "B"): "\u212C", ("script", "E"): "\u2130",
          ("script", "F"): "\u2131", ("script", "H"): "\u210B", ("script", "I"): "\u2110",
          ("script", "L"): "\u2112", ("script", "M"): "\u2133", ("script", "R"): "\u211B",
          ("script", "e"): "\u212F", ("script", "g"): "\u210A", ("script", "o"): "\u2134",
          ("fraktur", "C"): "\u212D", ("fraktur", "H"): "\u210C", ("fraktur", "I"): "\u2111",
          ("fraktur", "R"): "\u211C", ("fraktur", "Z"): "\u2128", ("double-struck", "C"): "\u2102",
          ("double-struck", "H"): "\u210D", ("double-struck", "N"): "\u2115", ("double-struck", "P"): "\u2119",
          ("double-struck", "Q"): "\u211A", ("double-struck", "R"): "\u211D", ("double-struck", "Z"): "\u2124"}
_GREEK_BOLD = {"bold": (0x1D6A8, 0x1D6C2), "bold-italic": (0x1D71C, 0x1D736)}


def _letter(char: str, variant: str) -> str:
    """``char`` in a mathematical alphabet (MathML Core styles letters by character, not by attribute)."""
    if (variant, char) in _HOLES:
        return _HOLES[(variant, char)]
    upper, lower, digit = _ALPHABETS[variant]
    if "A" <= char <= "Z":
        return chr(upper + ord(char) - ord("A"))
    if "a" <= char <= "z":
        return chr(lower + ord(char) - ord("a"))
    if "0" <= char <= "9" and digit:
        return chr(digit + ord(char) - ord("0"))
    if variant in _GREEK_BOLD and ("\u0391" <= char <= "\u03A9" or "\u03B1" <= char <= "\u03C9"):
        upper, lower = _GREEK_BOLD[variant]
        return chr(upper + ord(char) - 0x391) if char <= "\u03A9" else chr(lower + ord(char) - 0x3B1)
    return char


def _styled(mathml: str, variant: str) -> str:
    """The identifiers and numbers of ``mathml`` in a font: upright (``normal``) or a mathematical alphabet."""
    def restyle(match: re.Match) -> str:
        tag, text = match.group(1), match.group(3)
        if variant == "normal":
            return f'<{tag} mathvariant="normal">{text}</{tag}>' if tag == "mi" else match.group(0)
        return f"<{tag}>{''.join(_letter(c, variant) for c in text)}</{tag}>"
    styled = re.sub(r"<(mi|mn)( mathvariant=\"normal\")?>([^<]*)</\1>", restyle, mathml)
    if variant == "normal":  # \mathrm{ReLU}: one upright word, not four letters
        word = re.fullmatch(r'<mrow>((?:<mi mathvariant="normal">[^<]*</mi>)+)</mrow>', styled)
        if word:
            return f'<mi mathvariant="normal">{"".join(re.findall(r">([^<]*)</mi>", word.group(1)))}</mi>'
    return styled


_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;",
             **{c: f"&#{ord(c)};" for c in "*_`\\$|[]~#"}}  # (the second kind: characters Markdown acts on)


def _escape(text: str) -> str:
    """Text for a MathML element or attribute inside Markdown: HTML-escaped, and nothing Markdown acts on."""
    return "".join(_ENTITIES.get(c, c) for c in text)


def _el(tag: str, content: str = "", **attrs) -> str:
    extra = "".join(f' {k.rstrip("_").replace("_", "")}="{v}"' for k, v in attrs.items())
    return f"<{tag}{extra}>{content}</{tag}>"


def _row(items: list[str]) -> str:
    return items[0] if len(items) == 1 else _el("mrow", "".join(items))


class _Parser:
    """A recursive-descent reader of one TeX formula (see the module docstring)."""

    def __init__(self, tex: str, display: bool) -> None:
        self.tokens = [t for t in _TOKEN.findall(tex)]
        self.pos, self.display, self.unknown = 0, display, []

    def peek(self, skip_space: bool = True):
        pos = self.pos
        while skip_space and pos < len(self.tokens) and self.tokens[pos].isspace():
            pos += 1
        return self.tokens[pos] if pos < len(self.tokens) else None

    def take(self, skip_space: bool = True):
        while skip_space and self.pos < len(self.tokens) and self.tokens[self.pos].isspace():
            self.pos += 1
        token = self.tokens[self.pos] if self.pos < len(self.tokens) else None
        self.pos += 1
        return token

    def raw_group(self) -> str:
        """The text of the next {...} argument (or the next token), braces removed."""
        if self.peek() != "{":
            return self.take() or ""
        self.take()
        depth, text = 1, []
        while self.pos < len(self.tokens):
            token = self.tokens[self.pos]
            self.pos += 1
            depth += token == "{"
            depth -= token == "}"
            if depth == 0:
                break
            text.append(token)
        return "".join(text)

    def expression(self, stop=("}",)) -> list[str]:
        """Atoms with their scripts until ``stop``, ``&``, ``\\\\``, ``\\right``, ``\\end`` or the end."""
        items = []
        while True:
            token = self.peek()
            if token is None or token in stop or token in ("&", "\\\\", "\\right", "\\end", "\\cr"):
                return items
            atom = self.atom()
            if atom is not None:
                items.append(self.scripts(atom))

    def argument(self) -> str:
        """One argument: a {group} or a single atom."""
        if self.peek() == "{":
            self.take()
            items = self.expression()
            self.take()  # }
            return _row(items) if items else _el("mrow")
        atom = self.atom()
        return atom if atom is not None else _el("mrow")

    def scripts(self, base: str) -> str:
        sub = sup = None
        under = base.startswith('<mo movablelimits="true"')
        while True:
            token = self.peek()
            if token == "_" and sub is None:
                self.take()
                sub = self.argument()
            elif token == "^" and sup is None:
                self.take()
                sup = self.argument()
            elif token == "'":
                primes = ""
                while self.peek() == "'":
                    self.take()
                    primes += "\u2032"
                sup = _el("mo", primes) if sup is None else _row([sup, _el("mo", primes)])
            else:
                break
        if sub is None and sup is None:
            return base
        if under:  # (movablelimits: beside the operator when inline, under and over it in display)
            if sub is not None and sup is not None:
                return _el("munderover", base + sub + sup)
            return _el("munder", base + sub) if sub is not None else _el("mover", base + sup)
        if sub is not None and sup is not None:
            return _el("msubsup", base + sub + sup)
        return _el("msub", base + sub) if sub is not None else _el("msup", base + sup)

    def atom(self) -> str | None:
        token = self.take()
        if token == "{":
            items = self.expression()
            self.take()
            return _row(items) if items else _el("mrow")
        if token.startswith("\\") and len(token) > 1:
            return self.command(token[1:])
        if token[0].isdigit():
            return _el("mn", token)
        if token.isalpha():
            return _el("mi", _escape(token))
        if token in "^_":
            return _el("mrow")  # a script with nothing before it
        if token == "~":
            return _el("mspace", width="0.25em")
        if token in "()[]|":
            return _el("mo", _escape(token), stretchy="false")
        return _el("mo", "\u2212" if token == "-" else _escape(token))  # (a minus sign, not a hyphen)

    def command(self, name: str) -> str | None:
        if name in SPACES:
            return _el("mspace", width=SPACES[name])
        if name in ("{", "}", "|", "%", "$", "#", "&", "_"):
            return _el("mo", _escape({"|": "\u2016"}.get(name, name)), stretchy="false")
        if name in ("\\", "cr"):
            return None
        if name in GREEK:
            variant = {"mathvariant": "normal"} if name[0].isupper() else {}
            return _el("mi", GREEK[name], **variant)
        if name in IDENTIFIERS:
            return _el("mi", IDENTIFIERS[name], mathvariant="normal")
        if name in OPERATORS:
            return _el("mo", _escape(OPERATORS[name]))
        if name in LARGE:
            return _el("mo", LARGE[name], movablelimits="true", largeop="true")
        if name in FUNCTIONS:
            return _el("mi", name, mathvariant="normal")
        if name in LIMIT_FUNCTIONS:
            word = {"argmax": "arg max", "argmin": "arg min", "limsup": "lim sup", "liminf": "lim inf"}.get(name, name)
            return _el("mo", word, movablelimits="true", form="prefix")
        if name in ("frac", "dfrac", "tfrac", "cfrac"):
            fraction = _el("mfrac", self.argument() + self.argument())
            return fraction if name == "frac" else _el("mstyle", fraction, displaystyle=str(name != "tfrac").lower())
        if name == "binom":
            return _row([_el("mo", "("), _el("mfrac", self.argument() + self.argument(), linethickness="0"),
                         _el("mo", ")")])
        if name == "sqrt":
            if self.peek() == "[":
                self.take()
                index = self.expression(stop=("]",))
                self.take()
                return _el("mroot", self.argument() + _row(index or [_el("mrow")]))
            return _el("msqrt", self.argument())
        if name in ACCENTS:
            wide = "true" if name.startswith(("wide", "over")) else "false"
            return _el("mover", self.argument() + _el("mo", _escape(ACCENTS[name]), stretchy=wide), accent="true")
        if name in ("underbrace", "overbrace"):
            body = self.argument()
            brace = _el("mo", "\u23DF" if name == "underbrace" else "\u23DE", stretchy="true")
            tag = "munder" if name == "underbrace" else "mover"
            marker = "_" if name == "underbrace" else "^"
            inner = _el(tag, body + brace)
            if self.peek() == marker:
                self.take()
                return _el(tag, inner + self.argument())
            return inner
        if name in ("underline",):
            return _el("munder", self.argument() + _el("mo", "_", stretchy="true"), accentunder="true")
        if name in TEXTS:
            text = self.raw_group()
            variant = FONTS.get(name, "normal")
            return _el("mtext", _escape(text.replace("~", " ")), **({"mathvariant": variant}
                                                                    if variant != "normal" else {}))
        if name in ("operatorname", "operatorname*"):
            word = re.sub(r"\\[,;: !]", " ", self.raw_group())
            return _el("mo", _escape(word), movablelimits="true", form="prefix")
        if name in FONTS:
            return _styled(self.argument(), FONTS[name])
        if name in SIZED:
            return self.delimiter(self.take(), stretchy="false")
        if name == "left":
            opening = self.delimiter(self.take(), stretchy="true")
            items = self.expression()
            closing = _el("mrow")
            if self.peek() == "\\right":
                self.take()
                closing = self.delimiter(self.take(), stretchy="true")
            return _el("mrow", opening + "".join(items) + closing)
        if name == "begin":
            return self.environment(self.raw_group())
        if name in ("limits", "nolimits", "displaystyle", "textstyle", "nonumber", "notag", "label"):
            if name == "label":
                self.raw_group()
            return None
        if name in ("mathop", "mathbin", "mathrel", "mathord"):
            return self.argument()
        self.unknown.append("\\" + name)
        return _el("mtext", _escape("\\" + name))

    def delimiter(self, token: str | None, stretchy: str) -> str:
        symbol = DELIMITERS.get(token or ".", None)
        if symbol is None:
            symbol = OPERATORS.get((token or "")[1:], token or "")
        return _el("mo", _escape(symbol), stretchy=stretchy, fence="true") if symbol else _el("mrow")

    def environment(self, name: str) -> str:
        if name == "array":
            self.raw_group()  # column specification
        rows, row, cell = [], [], []
        while True:
            token = self.peek()
            if token is None:
                break
            if token == "\\end":
                self.take()
                self.raw_group()
                break
            if token == "&":
                self.take()
                row.append(cell)
                cell = []
            elif token in ("\\\\", "\\cr"):
                self.take()
                if self.peek() == "[":  # \\[2mm]: extra space, ignored
                    while self.take() not in ("]", None):
                        pass
                row.append(cell)
                rows.append(row)
                row, cell = [], []
            else:
                items = self.expression()
                if not items and self.peek() not in ("&", "\\\\", "\\cr", "\\end", None):
                    items = [_el("mtext", _escape(self.take()))]  # a stray } or \right: shown as text
                cell += items
        if cell or row:
            row.append(cell)
            rows.append(row)
        aligned = name.rstrip("*") in ("aligned", "align", "alignat", "split", "gathered", "gather", "eqnarray")
        table = []
        for cells in rows:
            tds = []
            for j, items in enumerate(cells):
                align = ("right" if j % 2 == 0 else "left") if aligned else "left" if name == "cases" else "center"
                tds.append(_el("mtd", _row(items) if items else "", style=f"text-align: {align}"))  # (CSS: MathML
                # Core browsers ignore columnalign)
            table.append(_el("mtr", "".join(tds)))
        spacing = ' columnspacing="0em 2em"' if aligned else ""
        body = f'<mtable displaystyle="{"true" if aligned else "false"}"{spacing}>{"".join(table)}</mtable>'
        if name == "cases":
            return _el("mrow", _el("mo", "{", stretchy="true", fence="true") + body)
        if name.rstrip("*") in MATRICES:
            left, right = MATRICES[name.rstrip("*")]
            return _el("mrow", (_el("mo", _escape(left), fence="true") if left else "") + body +
                       (_el("mo", _escape(right), fence="true") if right else ""))
        return body


def to_mathml(tex: str, display: bool = False) -> tuple[str, list[str]]:
    """(MathML of the formula ``tex``, the TeX commands it did not know)."""
    parser = _Parser(tex, display)
    items = []
    while parser.peek() is not None:
        items += parser.expression(stop=())
        stray = parser.take() if parser.peek() is not None else None
        if stray in ("\\\\", "\\cr"):
            items.append(_el("mspace", width="1em"))  # a line break outside an environment
        elif stray is not None:  # a stray }, &, \right or \end: shown as text
            items.append(_el("mtext", _escape(stray)))
    body = _row(items) if items else ""
    attrs = ' display="block"' if display else ""
    tex_text = _escape(" ".join(tex.split()))  # kept for copying and for readers that cannot show MathML
    return f'<math{attrs}><semantics>{_el("mrow", body)}' \
           f'<annotation encoding="application/x-tex">{tex_text}</annotation></semantics></math>', parser.unknown


_CODE = re.compile(r"(^|\n)(```|~~~)[^\n]*\n.*?(\n\2[^\n]*(?=\n|$)|$)|(`+)(?!`).+?(?<!`)\4(?!`)", re.S)
_MATH = re.compile(r"(?<!\\)\$\$(.+?)\$\$|\\\[(.+?)\\\]|(?<![\\$])\$(?!\$)((?:[^$\n]|\n(?!\s*\n))+?)(?<!\\)\$"
                   r"|\\\((.+?)\\\)|\\begin\{(equation\*?|align\*?|aligned|gather\*?|eqnarray\*?|multline\*?)\}"
                   r"(.+?)\\end\{\5\}", re.S)


def markdown_with_mathml(source: str) -> tuple[str, list[str]]:
    """``source`` (Markdown) with each formula replaced by its MathML; (text, unknown TeX commands)."""
    unknown: list[str] = []

    def replace(match: re.Match) -> str:
        display_tex, bracket_tex, inline_tex, paren_tex, env, env_body = match.groups()
        if env is not None:
            inner = env_body if env.rstrip("*") == "equation" else \
                f"\\begin{{{'aligned' if env.rstrip('*') in ('align', 'eqnarray') else 'gathered'}}}" \
                f"{env_body}\\end{{{'aligned' if env.rstrip('*') in ('align', 'eqnarray') else 'gathered'}}}"
            math, missing = to_mathml(inner, display=True)
        else:
            tex = next(t for t in (display_tex, bracket_tex, inline_tex, paren_tex) if t is not None)
            math, missing = to_mathml(tex, display=display_tex is not None or bracket_tex is not None)
        unknown.extend(missing)
        return math

    def safe(match: re.Match) -> str:
        try:
            return replace(match)
        except (RecursionError, IndexError, ValueError):  # a formula this reader cannot follow: its TeX stays
            unknown.append(match.group(0)[:40])
            return match.group(0)

    pieces, last = [], 0
    for code in _CODE.finditer(source):
        pieces.append(_MATH.sub(safe, source[last:code.start()]))
        pieces.append(code.group(0))
        last = code.end()
    pieces.append(_MATH.sub(safe, source[last:]))
    return "".join(pieces), unknown
