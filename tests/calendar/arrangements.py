"""A made-up but complete official arrangement for 2027 (test data, not the State Council's).

Every statutory festival of 2027 has holiday dates, so an import of it is accepted.
"""

ARRANGEMENT_2027 = """\
date,kind,name
2027-01-01,holiday,元旦
2027-01-02,holiday,元旦
2027-01-03,holiday,元旦
2027-02-05,holiday,春节
2027-02-06,holiday,春节
2027-02-07,holiday,春节
2027-02-08,holiday,春节
2027-02-09,holiday,春节
2027-02-10,holiday,春节
2027-02-11,holiday,春节
2027-02-12,holiday,春节
2027-02-13,holiday,春节
2027-02-20,workday,春节调休上班
2027-04-03,holiday,清明节
2027-04-04,holiday,清明节
2027-04-05,holiday,清明节
2027-05-01,holiday,劳动节
2027-05-02,holiday,劳动节
2027-05-03,holiday,劳动节
2027-05-04,holiday,劳动节
2027-05-05,holiday,劳动节
2027-05-08,workday,劳动节调休上班
2027-06-09,holiday,端午节
2027-09-15,holiday,中秋节
2027-09-26,workday,国庆节调休上班
2027-10-01,holiday,国庆节
2027-10-02,holiday,国庆节
2027-10-03,holiday,国庆节
2027-10-04,holiday,国庆节
2027-10-05,holiday,国庆节
2027-10-06,holiday,国庆节
2027-10-07,holiday,国庆节
2027-10-09,workday,国庆节调休上班
"""
ROWS_2027 = ARRANGEMENT_2027.count("\n") - 1  # 33 dates


def without(text: str, festival: str) -> str:
    """``text`` with every line naming ``festival`` (e.g. "国庆节") left out."""
    return "".join(line for line in text.splitlines(keepends=True) if festival not in line)
