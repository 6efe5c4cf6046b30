"""Finding fonts: a CJK font for Chinese labels, and a Latin font that always exists.

Discovery is separate from rendering so tests (and odd machines) can pass an
explicit candidate list; an empty list means "no CJK font", which makes the
renderers fall back to English chart labels and say so.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib

# Families tried in order; the first that is installed wins. Hei (sans) faces
# read better at chart sizes than Song (serif) ones.
PREFERRED_CJK = (
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Droid Sans Fallback",
    "AR PL UMing CN",
    "Noto Serif CJK SC",
)

# Well-known locations, used when neither fc-list nor matplotlib finds one.
KNOWN_CJK_FILES = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"),
)


@dataclass(frozen=True, slots=True)
class FontFile:
    """One face in a font file (``index`` is the face inside a .ttc collection)."""

    path: Path
    index: int
    family: str


@dataclass(frozen=True, slots=True)
class FontChoice:
    """The fonts a report uses.

    ``cjk``: candidates for Chinese text, best first (empty: none found).
    ``latin`` / ``latin_bold``: DejaVu Sans shipped inside matplotlib, so it
    is present wherever the charts can be drawn.
    """

    cjk: tuple[FontFile, ...]
    latin: Path
    latin_bold: Path

    @property
    def has_cjk(self) -> bool:
        return bool(self.cjk)


def _matplotlib_font(name: str) -> Path:
    return Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name


def _rank(family: str) -> int:
    for i, name in enumerate(PREFERRED_CJK):
        if family.lower() == name.lower():
            return i
    return len(PREFERRED_CJK)


def _from_fc_list() -> list[FontFile]:
    """Chinese-capable faces known to fontconfig (none if fc-list is missing)."""
    exe = shutil.which("fc-list")
    if exe is None:
        return []
    try:
        out = subprocess.run(
            [exe, ":lang=zh-cn", "%{file}|%{index}|%{family[0]}\n"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    found = []
    for line in out.splitlines():
        parts = line.split("|")
        if len(parts) != 3 or not parts[0]:
            continue
        try:
            index = int(parts[1] or 0)
        except ValueError:
            index = 0
        found.append(FontFile(Path(parts[0]), index, parts[2]))
    return found


def _from_matplotlib() -> list[FontFile]:
    from matplotlib import font_manager

    wanted = {n.lower() for n in PREFERRED_CJK}
    return [
        FontFile(Path(f.fname), 0, f.name)
        for f in font_manager.fontManager.ttflist
        if f.name.lower() in wanted
    ]


def _describe(path: Path) -> FontFile | None:
    """A file given explicitly: its family name via matplotlib (face 0)."""
    from matplotlib import font_manager

    if not path.is_file():
        return None
    try:
        font_manager.fontManager.addfont(str(path))
        family = font_manager.FontProperties(fname=str(path)).get_name()
    except (OSError, RuntimeError, ValueError):
        return None
    return FontFile(path, 0, family)


def discover_fonts(cjk_files: Sequence[Path | str] | None = None) -> FontChoice:
    """Find the fonts for a report.

    ``cjk_files`` None: search the system (fc-list, matplotlib's font list,
    well-known paths). A sequence: use only those files (empty: no CJK font).
    """
    if cjk_files is None:
        candidates = _from_fc_list() + _from_matplotlib()
        candidates += [f for p in KNOWN_CJK_FILES if (f := _describe(p)) is not None]
    else:
        candidates = [f for p in cjk_files if (f := _describe(Path(p))) is not None]
    seen: set[tuple[Path, int]] = set()
    unique: list[FontFile] = []
    for f in sorted(candidates, key=lambda f: (_rank(f.family), "mono" in f.family.lower())):
        if (f.path, f.index) not in seen and f.path.is_file():
            seen.add((f.path, f.index))
            unique.append(f)
    return FontChoice(
        cjk=tuple(unique),
        latin=_matplotlib_font("DejaVuSans.ttf"),
        latin_bold=_matplotlib_font("DejaVuSans-Bold.ttf"),
    )


def no_cjk_fonts() -> FontChoice:
    """A choice with no CJK font at all (for tests and forced fallback)."""
    return discover_fonts([])
