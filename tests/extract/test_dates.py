import pytest
from hypothesis import given
from hypothesis import strategies as st

from govcrawl.extract.dates import _FULLWIDTH, find_dates, fold_digits, parse_date, url_date


@pytest.mark.parametrize(
    ("text", "iso", "precision"),
    [
        ("2022-05-10", "2022-05-10", "day"),
        ("2022-05-10 10:23", "2022-05-10T10:23:00+08:00", "minute"),
        ("2022-11-02 20:14:37", "2022-11-02T20:14:37+08:00", "second"),
        ("2022/5/10", "2022-05-10", "day"),
        ("2022.05.10", "2022-05-10", "day"),
        ("2022年05月10日", "2022-05-10", "day"),
        ("2022年5月9日", "2022-05-09", "day"),
        ("2019年10月31日 23:00", "2019-10-31T23:00:00+08:00", "minute"),
        ("2005年3月11日12:12", "2005-03-11T12:12:00+08:00", "minute"),
        ("２０２２－０６－１８ １１：２０", "2022-06-18T11:20:00+08:00", "minute"),
        ("2022-03-04 12:39:00来源:", "2022-03-04T12:39:00+08:00", "second"),
        ("7/5/2005 9:23:57 PM", "2005-07-05T21:23:57+08:00", "second"),
    ],
)
def test_formats_keep_the_page_precision(text: str, iso: str, precision: str) -> None:
    parsed = parse_date(text)
    assert parsed is not None
    assert (parsed.iso, parsed.precision) == (iso, precision)


def test_bare_date_never_becomes_midnight() -> None:
    parsed = parse_date("发布时间:2022-05-10")
    assert parsed is not None and parsed.iso == "2022-05-10" and "T" not in parsed.iso


@pytest.mark.parametrize("text", ["2022-13-01", "2022-02-30", "1850-01-01", "版本 1.2022.05"])
def test_invalid_dates_rejected(text: str) -> None:
    assert parse_date(text) is None


def test_banners_and_weekday_widgets_skipped() -> None:
    text = "今天是 2024年12月29日 星期日 2021-09-20 星期一 正文 2022-05-10 10:00"
    found = find_dates(text)
    assert [d.iso for d in found] == ["2022-05-10T10:00:00+08:00"]


@pytest.mark.parametrize(
    ("url", "day"),
    [
        ("https://www.spp.gov.cn/spp/zdgz/202103/t20210305_510599.shtml", "2021-03-05"),
        ("https://www.chinapeace.gov.cn/chinapeace/c100007/2022-07/13/content_1.shtml",
         "2022-07-13"),
        ("http://x.gov.cn/art/2022/5/10/art_282_123456.html", "2022-05-10"),
        ("http://x.gov.cn/news/about.html", None),
    ],
)
def test_url_dates(url: str, day: str | None) -> None:
    parsed = url_date(url)
    assert (parsed.iso if parsed else None) == day


@given(st.text(alphabet=st.sampled_from("２０２２－０５／１０．：　年5 -:"), max_size=30))
def test_fold_digits_is_the_full_width_table(text: str) -> None:
    assert fold_digits(text) == text.translate(_FULLWIDTH)
