"""Unit tables for builder/read.py: decoding every encoding a scraped page comes in, rejecting what is not
a page, and listing the input folder."""

from __future__ import annotations

import codecs
import hashlib

import pytest

from builder.errors import Reject
from builder.read import decode, list_inputs, read
from builder.records import Source

FRENCH = (
    "L’histoire intérieure de la démission est révélée : elle était impliquée dans de multiples controverses. "
    "Selon des personnes proches du dossier, le départ soudain de la directrice, à la fin du mois dernier, "
    "a attiré l’attention du secteur. « C’est une décision difficile », a-t-elle déclaré — sans plus de détails. "
    "Les équipes de recherche et de développement préfèrent désormais une stratégie plus prudente.\n"
)
FRENCH_LATIN1 = (  # only characters Latin-1 has: no curly quotes, no dashes
    "L'histoire intérieure de la démission est révélée : elle était impliquée dans de multiples controverses. "
    "Selon des personnes proches du dossier, le départ soudain de la directrice, à la fin du mois dernier, "
    "a attiré l'attention du secteur. « C'est une décision difficile », a-t-elle déclaré, sans plus de détails. "
    "Les équipes de recherche et de développement préfèrent désormais une stratégie plus prudente.\n"
)
CHINESE = (
    "深陷高管离职风波的 OpenAI 最近点燃了吃瓜群众的热情。一边是被曝投后估值高达 1500 亿美元，成为全球 AI 独角兽中最靓的崽；"
    "一边是高管团队接连离职，引发外界对公司内部管理的质疑。很快，外媒就曝光了员工流失的内幕。"
    "老规矩，先说结论：这波离职潮大致可分为两个原因，一是高管心里受委屈了，二是钱没给够。\n"
)
JAPANESE = (
    "OpenAIで幹部の辞任が相次ぎ、その内幕が明らかになった。多くの従業員が会社を去っており、"
    "外部のメディアは社内の対立について詳しく報じている。アルトマン氏はお金を稼ぐことが大好きだが、"
    "社内の権力争いにも強い関心を持っていると言われている。今回の報道によると、研究部門と製品部門の間で"
    "意見の食い違いが続いていたという。\n"
)
KOREAN = (
    "오픈AI에서 경영진의 사임이 잇따르면서 그 내막이 드러났다. 많은 직원들이 회사를 떠났으며, "
    "외신은 회사 내부의 갈등에 대해 자세히 보도했다. 보도에 따르면 연구 부서와 제품 부서 사이에 "
    "의견 차이가 계속되어 왔다고 한다. 회사는 이번 일에 대해 공식적인 입장을 밝히지 않았다.\n"
)
MIXED = "notícias\n\nOpenAI 高管离职潮 — “quote” ★ 한국어 Русский日本語\n"
CRLF = "news\r\n\r\nA title\r\n\r\nFirst paragraph.\r\nSecond line.\r\n"


@pytest.mark.parametrize(
    "data, text, encoding",
    [
        pytest.param(MIXED.encode("utf-8"), MIXED, "utf-8", id="utf-8"),
        pytest.param(codecs.BOM_UTF8 + MIXED.encode("utf-8"), MIXED, "utf-8-sig", id="utf-8-bom-dropped"),
        pytest.param(codecs.BOM_UTF16_LE + MIXED.encode("utf-16-le"), MIXED, "utf-16-le", id="utf-16-le-bom"),
        pytest.param(codecs.BOM_UTF16_BE + MIXED.encode("utf-16-be"), MIXED, "utf-16-be", id="utf-16-be-bom"),
        pytest.param(codecs.BOM_UTF32_LE + MIXED.encode("utf-32-le"), MIXED, "utf-32-le", id="utf-32-le-bom"),
        pytest.param(CHINESE.encode("gb18030"), CHINESE, None, id="gb18030-chinese"),
        pytest.param(JAPANESE.encode("shift_jis"), JAPANESE, None, id="shift-jis-japanese"),
        pytest.param(KOREAN.encode("euc-kr"), KOREAN, None, id="euc-kr-korean"),
        pytest.param(FRENCH.encode("cp1252"), FRENCH, None, id="windows-1252-french"),
        pytest.param(FRENCH_LATIN1.encode("latin-1"), FRENCH_LATIN1, None, id="latin-1-french"),
        pytest.param(CRLF.encode("utf-8"), CRLF, "utf-8", id="crlf-kept"),
        pytest.param(codecs.BOM_UTF16_LE + CRLF.encode("utf-16-le"), CRLF, "utf-16-le", id="crlf-kept-utf-16"),
    ],
)
def test_read_decodes(tmp_path, data, text, encoding):
    (tmp_path / "page.txt").write_bytes(data)
    source = read(tmp_path, "page.txt")
    assert isinstance(source, Source), source
    assert source.text == text
    assert not source.text.startswith("\ufeff"), "the BOM is dropped"
    if encoding is not None:
        assert source.encoding == encoding
    assert source.path == "page.txt"
    assert source.size == len(data)
    assert source.sha256 == hashlib.sha256(data).hexdigest(), "the hash is of the bytes as stored"


@pytest.mark.parametrize(
    "data, text, encoding",
    [
        pytest.param(b"plain ascii page", "plain ascii page", "utf-8", id="ascii"),
        pytest.param(codecs.BOM_UTF8 + "café".encode("utf-8"), "café", "utf-8-sig", id="utf-8-bom"),
        pytest.param(codecs.BOM_UTF16_BE + "日本語".encode("utf-16-be"), "日本語", "utf-16-be", id="utf-16-be"),
    ],
)
def test_decode_bytes(data, text, encoding):
    assert decode(data, "x.txt") == (text, encoding)


@pytest.mark.parametrize(
    "data, max_bytes, reason, offset",
    [
        pytest.param(b"", 1000, "empty", None, id="empty"),
        pytest.param(b" \n\t\r\n  \n", 1000, "no_text", None, id="white-space-only"),
        pytest.param(codecs.BOM_UTF8 + b"  \r\n ", 1000, "no_text", None, id="bom-then-white-space"),
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", 1000, "binary", 0, id="png-header"),
        pytest.param(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", 1000, "binary", 0, id="pdf-header"),
        pytest.param(b"Hello world\x00more text", 1000, "nul_byte", 11, id="nul-byte-offset"),
        pytest.param(b"\x00leading nul", 1000, "nul_byte", 0, id="nul-byte-first"),
        pytest.param(codecs.BOM_UTF8 + b"abc\xff\xfe", 1000, "undecodable", 6, id="utf-8-bom-then-bad-byte"),
        pytest.param(b"\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f\x10\x11 text", 1000, "binary", None,
                     id="control-characters"),
        pytest.param(b"x" * 11, 10, "too_large", None, id="too-large"),
    ],
)
def test_read_rejects(tmp_path, data, max_bytes, reason, offset):
    (tmp_path / "bad.txt").write_bytes(data)
    result = read(tmp_path, "bad.txt", max_bytes=max_bytes)
    assert isinstance(result, Reject), result
    assert result.path == "bad.txt"
    assert result.reason == reason
    if offset is not None:
        assert result.offset == offset
    assert result.detail, "a reject always says what to do"


def test_read_at_the_size_bound_is_accepted(tmp_path):
    (tmp_path / "page.txt").write_bytes(b"x" * 10)
    source = read(tmp_path, "page.txt", max_bytes=10)
    assert isinstance(source, Source)
    assert source.text == "x" * 10


def test_list_inputs_nested_sorted(tmp_path):
    for rel in ["z/1.txt", "b.txt", "a/x.txt", "a/c/y.txt", "a.txt", "a/c/d/deep.txt"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("page\n", encoding="utf-8")
    assert list_inputs(tmp_path) == ["a.txt", "a/c/d/deep.txt", "a/c/y.txt", "a/x.txt", "b.txt", "z/1.txt"]


def test_list_inputs_symlinks_rejected_never_followed(tmp_path):
    root = tmp_path / "inputs"
    outside = tmp_path / "outside"
    (root / "sub").mkdir(parents=True)
    outside.mkdir()
    (outside / "secret.txt").write_text("not an input\n", encoding="utf-8")
    (root / "page.txt").write_text("page\n", encoding="utf-8")
    (root / "sub" / "inner.txt").write_text("page\n", encoding="utf-8")
    (root / "link.txt").symlink_to(outside / "secret.txt")
    (root / "sub" / "linkdir").symlink_to(outside, target_is_directory=True)

    listed = list_inputs(root)
    rejects = {item.path: item.reason for item in listed if isinstance(item, Reject)}
    files = [item for item in listed if isinstance(item, str)]
    assert rejects == {"link.txt": "symlink", "sub/linkdir": "symlink"}
    assert files == ["page.txt", "sub/inner.txt"]
    assert not any("secret" in (item.path if isinstance(item, Reject) else item) for item in listed)
    assert [item.path if isinstance(item, Reject) else item for item in listed] == [
        "link.txt", "page.txt", "sub/inner.txt", "sub/linkdir"]


def test_list_inputs_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError):
        list_inputs(tmp_path / "nope")
