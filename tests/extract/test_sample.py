"""The farm-mirror text sample shipped with govcrawl (govcrawl/samples) → its expected fields."""

from pathlib import Path

from govcrawl.extract.page import extract_page

SAMPLE = Path(__file__).resolve().parents[2] / "govcrawl" / "samples" / "farm-mirror-article.txt"


def test_farm_mirror_text_sample() -> None:
    r = extract_page(SAMPLE.read_bytes(), "http://mirror.invalid/content_12627415.shtml", 200,
                     {"Content-Type": "text/plain; charset=utf-8"})
    assert r.kind == "article" and r.is_mirror and r.script == "traditional"
    assert r.title == "最高检:以高质量的检察履职实绩为党分忧为民解难"
    assert (r.source, r.author, r.editor) == ("中国长安网", None, "李婷")
    assert (r.published_at, r.published_precision) == ("2022-05-10", "day")
    assert r.body_text.startswith(
        "最高检党组研究讨论“质量建设年”以检察工作高质量发展服务经济社会高质量发展和疫情防控大局的具体举措,会议要求")
    assert r.body_text.endswith("最高检院领导、检委会专职委员,最高检机关有关部门负责人参加会议。")
    assert "以更优的检察履职实绩为党分忧、为民解难!”5月9日," in r.body_text
    assert "(下称中央全面依法治国委员会《意见》)" in r.body_text
    assert "yōu" not in r.body_text and "辄" not in r.body_text and "字号" not in r.body_text
    assert "\u00a0" not in r.body_text and "今天是" not in r.body_text
    assert all(line.strip() for line in r.body_text.split("\n"))
    assert "實績" in r.body_original
