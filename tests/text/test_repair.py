"""Text repair: pinyin injection, the GBK byte-shift garble, mojibake, script, spaces."""

from __future__ import annotations

import codecs
from pathlib import Path

import opencc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pypinyin import Style, pinyin

from govcrawl.text.hanzi import HAN_RE
from govcrawl.text.repair import (
    _SPACE_TRANSLATION,
    _script_run_res,
    detect_script,
    normalise_spaces,
    repair_document,
    repair_gbk_garble,
    repair_gbk_read_as_latin1,
    repair_utf8_read_as_gbk,
    strip_pinyin,
    to_simplified,
)

SAMPLE = Path(__file__).resolve().parents[2] / "govcrawl" / "samples" / "farm-mirror-article.txt"
S2T = opencc.OpenCC("s2tw")  # 為, as the farms write it


def farm_corrupt(simplified: str, annotate: str, swallow_paren: bool = True) -> str:
    """What the content-farm tool does: traditional script, then `字(pīnyīn)` inserted by
    replacing GBK *bytes*, so a rule can match a misaligned trail+lead pair (portals.md §4b)."""
    data = S2T.convert(simplified).encode("gbk")
    for char in dict.fromkeys(S2T.convert(annotate)):
        reading = pinyin(char, style=Style.TONE)[0][0]
        code = char.encode("gbk")
        data = data.replace(code, code + f"({reading})".encode("gbk"))
    if swallow_paren:  # the farm's decoder ate the byte after an orphaned lead byte
        return data.decode("gbk", errors="farm-swallow")
    return data.decode("gbk", errors="replace")


def _farm_decoder_error(error: UnicodeDecodeError) -> tuple[str, int]:
    return "?", min(error.end + 1, len(error.object))


codecs.register_error("farm-swallow", _farm_decoder_error)


def test_the_sample_comes_out_simplified_without_pinyin_and_with_both_garbles_repaired(testdata):
    raw = SAMPLE.read_text("utf-8")
    assert raw.count("?yōu)辄h") == 2
    repaired = repair_document(raw)
    assert "gbk-byte-shift:2" in repaired.repairs
    assert repaired.pinyin_groups == 273
    assert detect_script(repaired.text) == "traditional"
    text = to_simplified(normalise_spaces(repaired.text))
    assert text.count("实绩为党分忧") == 2
    assert "以更优的检察履职实绩为党分忧、为民解难!" in text
    assert "辄" not in text and "?" not in text.replace("?”", "")
    assert "来源:中国长安网 责任编辑:李婷 发布时间:2022-05-10" in text
    assert "(下称中央全面依法治国委员会《意见》)" in text  # a real parenthetical stays
    for group in ("(wǎng)", "(guó)", "(zhǎng)"):
        assert group not in text


def test_forward_corruption_of_the_documented_example_is_repaired():
    garbled = farm_corrupt("实绩为党分忧", annotate="优绩")
    assert garbled == "實績(jī)?yōu)辄h分憂"
    text, repaired, left = repair_gbk_garble(garbled)
    assert (text, repaired, left) == ("實績(jī)為黨分憂", 1, 0)
    assert strip_pinyin(text) == ("實績為黨分憂", 1)


def test_python_style_replacement_is_repaired_too():
    garbled = farm_corrupt("实绩为党分忧", annotate="优绩", swallow_paren=False)
    assert "\ufffd(yōu)" in garbled
    assert repair_gbk_garble(garbled)[0] == "實績(jī)為黨分憂"


def test_a_garble_with_no_provable_repair_is_left_and_flagged():
    text = "莊重?zé)崃遥"  # the run is cut: its last byte is lost, nothing decodes uniquely
    assert repair_gbk_garble(text) == (text, 0, 1)
    assert repair_document(text).warnings == ["gbk-byte-shift-unrepaired:1"]


def test_pinyin_stripping_keeps_genuine_parentheticals():
    text = "依法治國(guó)委員會(huì)《意見》(下稱《意見》)、人工智能(AI)、（2022）第3號、第(一)項"
    stripped, count = strip_pinyin(text)
    assert count == 2
    assert stripped == "依法治國委員會《意見》(下稱《意見》)、人工智能(AI)、（2022）第3號、第(一)項"


def test_pinyin_inside_labels_and_values():
    stripped, _ = strip_pinyin("來(lái)源:中國(guó)長(zhǎng)安網(wǎng) 責(zé)任編輯:李婷 發(fā)布時(shí)間:2022-05-10")
    assert stripped == "來源:中國長安網 責任編輯:李婷 發布時間:2022-05-10"


def test_a_reading_that_belongs_to_another_character_stays():
    assert strip_pinyin("法院(wǎng)判決")[1] == 0


def test_toneless_format_b_is_stripped_with_its_space_when_dense():
    text = "東(dong) 方網(wang) 訊,全國(guo) 政法(fa) 隊伍教育整頓會(hui) 議召開"
    assert strip_pinyin(text)[0] == "東方網訊,全國政法隊伍教育整頓會議召開"


def test_pinyin_groups_side_by_side_and_after_non_han_characters():
    text = "依法治國(guó)(guó)委員會(huì) 中(zhōng) 國(guó)x(guó)、AI(guó)"
    assert strip_pinyin(text) == ("依法治國(guó)委員會 中 國x(guó)、AI(guó)", 4)


def test_a_lone_toneless_group_in_long_text_stays():
    text = "根據規定," * 40 + "列舉如下:甲(a)乙(b)"
    assert strip_pinyin(text) == (text, 0)


def test_script_detection_protects_simplified_names():
    assert detect_script("记者邓昇报道，甘肃省检察院召开会议，部署相关工作。") == "simplified"
    assert to_simplified("鄧昇") == "邓升"  # why conversion is only done on traditional text
    assert detect_script("記者報道，甘肅省檢察院召開會議，部署相關工作。") == "traditional"
    assert detect_script("") == "simplified"


def test_script_verdicts_are_those_of_each_character_converted_alone():
    t2s, s2t = opencc.OpenCC("t2s"), opencc.OpenCC("s2t")
    simplifiable, traditionalisable = _script_run_res()
    for char in map(chr, range(0x3400, 0xFB00)):
        if HAN_RE.match(char):
            assert bool(simplifiable.fullmatch(char)) == (t2s.convert(char) != char), char
            assert bool(traditionalisable.fullmatch(char)) == (s2t.convert(char) != char), char


def test_spaces_and_full_width_digits():
    text = "来源：\u00a0\u00a0新华社\u3000作者\u200b：２０２２年"
    assert normalise_spaces(text) == "来源：  新华社 作者：2022年"


@given(st.text(alphabet=st.sampled_from("来源 a\u00a0\u3000\u2003\u200b\u200d\ufeff\u00ad０９："),
               max_size=30))
def test_spaces_are_normalised_as_the_translation_table_says(text):
    assert normalise_spaces(text) == text.translate(_SPACE_TRANSLATION)


def test_utf8_read_as_gbk_mojibake():
    original = "甘肃省高级人民法院召开会议，部署扫黑除恶专项斗争"
    mojibake = original.encode("utf-8").decode("gb18030", errors="replace")
    text, count = repair_utf8_read_as_gbk(mojibake)
    assert count >= 1
    assert "扫黑除恶专项斗" in text and "甘肃省高级人民法院召" in text


def test_gbk_read_as_latin1_mojibake():
    original = "最高人民检察院召开党组会"
    assert repair_gbk_read_as_latin1(original.encode("gbk").decode("latin-1")) == (original, 1)


def test_clean_text_is_left_alone():
    clean = "全国政法工作会议在京召开，鐵路公安局通報。字號:A A\u00a0\u00a0\u00a0\u00a0顏色:"
    result = repair_document(clean)
    assert (result.text, result.repairs, result.warnings) == (clean, [], [])


@pytest.mark.parametrize("page", ["010", "021", "003", "022", "034"])
def test_no_false_repairs_on_clean_portal_pages(testdata, page):
    from govcrawl.text.decode import decode_body

    path = testdata / "devset" / "pages" / f"{page}.html"
    import json

    headers = json.loads(path.with_suffix(".json").read_text("utf-8"))["headers"]
    result = repair_document(decode_body(path.read_bytes(), headers).text)
    assert result.repairs == []


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_repair_never_raises(text):
    assert isinstance(repair_document(text).text, str)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("實績為黨分憂網()?yōuāǎ辄hzé崃遥 \ufffd")),
               max_size=60))
def test_repair_never_raises_on_garble_shaped_text(text):
    result = repair_document(text)
    assert isinstance(result.text, str)


def test_when_two_lost_bytes_fit_the_reading_the_one_that_reads_as_text_wins():
    # 碜 and 眈 both read chěn after 卷's trail byte; only 宗隨 is text.
    assert repair_gbk_garble("电子卷?chěn)陔S案同步生成") == ("电子卷宗隨案同步生成", 1, 0)


def test_neutral_tone_groups_go_with_the_tone_marked_ones():
    text = "電(diàn)子(zi)卷宗隨(suí)案同步生(shēng)成"
    assert strip_pinyin(text) == ("電子卷宗隨案同步生成", 4)


def test_a_garble_after_punctuation_is_repaired():
    # The misaligned pair is the closing quote's trail byte and 執's lead byte (issue 21).
    assert repair_gbk_garble("“雷霆行動”?yáng)探Y案件") == ("“雷霆行動”執結案件", 1, 0)


def test_a_toneless_group_among_tone_marked_ones_is_a_neutral_tone():
    # 卜 reads bo (neutral) as well as bǔ: among 20 characters that read bō/bó after 安's trail
    # byte, only 卜 is annotated bo by a farm.
    assert repair_gbk_garble("推(tuī)進社會治安?bo)揽伢w系建設") == (
        "推(tuī)進社會治安防控體系建設", 1, 0)


def test_the_usual_reading_decides_between_heteronyms():
    # 搜, 擞 and 嗽 all have sòu among their readings; a farm writes sòu only after 嗽.
    assert repair_gbk_garble("讓當事人?sòu)诩议T口就能立案") == ("讓當事人在家門口就能立案", 1, 0)


def test_a_split_character_whose_trail_byte_is_ascii_leaves_no_run():
    garbled = farm_corrupt("全面从严治党", annotate="吸")  # 治's trail + 黨's lead = 吸; 黨 ends in h
    assert garbled == "全面從嚴治?xī)h"
    assert repair_gbk_garble(garbled) == ("全面從嚴治黨", 1, 0)


def test_every_garble_the_simulated_mirror_makes_is_repaired():
    """The simulator's farm renderer garbles only where one character fits: all must come back."""
    from govcrawl.simulator.corpus import PORTAL_BY_ID, make_content
    from govcrawl.simulator.render import farm_text

    t2s = opencc.OpenCC("t2s")
    garbled = 0
    for portal in PORTAL_BY_ID.values():
        for index in range(12):
            content = make_content(7, portal, index)
            for k, text in enumerate([content.title, *content.paragraphs]):
                farmed = farm_text(text, (portal.id, index, k), True, False)
                if "?" not in farmed:
                    continue
                garbled += 1
                result = repair_document(farmed)
                assert t2s.convert(result.text) == t2s.convert(S2T.convert(text)), farmed
                assert result.warnings == []
    assert garbled > 100
