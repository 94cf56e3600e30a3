"""Does an unlabelled token look like a Chinese personal name?

Only evidence that carries no role word needs this: a bare name in parentheses ending an article
(``（袁源）``), a name before a credit tail (``（姚峰 上海报道）``, ``蔡雪婧/摄``), a bracketed name
before a 来源 label (``[ 黄宇 ] 来源：``).  A labelled credit (``记者 X``) is evidence enough and
is not checked here.  The test is deliberately narrow: 2–4 Han characters led by a common
surname, and neither a place nor an organisation nor an end-of-article word.
"""

from __future__ import annotations

import re

# The common single-character surnames (together they cover the great majority of people).
_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫阎段雷侯龙史陶黎贺"
    "顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿"
    "关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华"
    "喻祁蒲房滕屈饶解牟艾尤阳穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景宫费卜冷晏席卫米柏宗"
    "瞿桂全佟应臧闵苟邬边卞姬师仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠"
    "惠荆乐冀郁胥南班储栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻位厉伊仝区郜阚花权强帅屠豆朴盖练廉禹"
    "井祖漆巴丰支卿狄平计索晋云容敬扈晁芮阙浦戈伏鹿薄邸雍辜羊乌母裘亓修邰赫杭况"
    "宿鲜印逯隆茹诸战慕危银亢嵇哈湛宾戎勾茅於呼居揭尉冶斯元束檀衣展阴昝幸奉植衡富尧"
)
_COMPOUND_SURNAMES = frozenset((
    "欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容",
    "长孙", "宇文", "司徒", "夏侯", "令狐", "端木", "西门", "南宫", "独孤",
))
# Places and scopes whose first character is also a surname (provinces, capitals, regions).
_PLACES = frozenset((
    "吉林", "江苏", "安徽", "江西", "云南", "甘肃", "宁夏", "成都", "南京",
    "武汉", "沈阳", "南宁", "南昌", "石家庄", "哈尔滨", "呼和浩特", "乌鲁木齐",
    "银川", "宁波", "华北", "华东", "华南", "华中", "全国", "全省", "全市",
))
# A last character that makes a token a place or an organisation (上海市, 新华社, 公安局); not
# 国/山/江, which end many given names (建国, 李江).
_PLACE_OR_ORG_END = frozenset("省市县区镇乡村州局院委部厅会社报台网处所校司队站办组港湾岛街团馆")
# Words that end an article or label its parts, never a person: （完）, （未完待续）, （化名）;
# 某 stands for a withheld name (李某某), a party to a case rather than its reporter.
_NOT_PERSON_RE = re.compile(
    "来源|编辑|记者|作者|通讯|供稿|转载|摘编|摘自|选自|整理|综合|编译|原标题|责编|本报|本刊|"
    "新闻|报道|图|摄|完|续|化名|某|全文|简介|连载|节选|原创|简讯|解读|关注|评论|视频|专题|"
    "平安|安全|中心|公司|集团|大学|学院|中学|小学|医院|法院|检察"
)
_HAN_RE = re.compile(r"^[\u3400-\u9fff]{2,4}$")
_SPLIT_RE = re.compile(r"[\s、,，]+")


def looks_like_person(token: str) -> bool:
    """2–4 Han characters led by a common surname, not a place, organisation or marker word."""
    if not _HAN_RE.match(token) or token in _PLACES or token[-1] in _PLACE_OR_ORG_END:
        return False
    if token[0] not in _SURNAMES and token[:2] not in _COMPOUND_SURNAMES:
        return False
    return not _NOT_PERSON_RE.search(token)


def person_names(text: str) -> str | None:
    """Up to four personal names separated by spaces/、/，, joined by one space; else None."""
    tokens = [t for t in _SPLIT_RE.split(text.strip()) if t]
    if not 1 <= len(tokens) <= 4 or not all(map(looks_like_person, tokens)):
        return None
    return " ".join(tokens)
