import pytest


@pytest.fixture
def hall(catalog, make_user):
    """People of a small hall: a director, two agents, two enterprises, liaisons of every sample department."""
    from sqlalchemy import select

    from agency.catalog.models import Department
    people = {
        "director": make_user("director", "director", email="director@hall.test"),
        "agent": make_user("agent", "agent", email="agent@hall.test", phone="0571-1"),
        "agent2": make_user("agent", "agent2", email="agent2@hall.test", phone="0571-2"),
        "ent": make_user("enterprise", "ent", email="ent@corp.test", organization="甲公司"),
        "ent2": make_user("enterprise", "ent2", email="ent2@corp.test", organization="乙公司"),
    }
    session = make_user.session
    for department in session.scalars(select(Department)):
        code = department.code.lower()
        people[f"{code}_a"] = make_user("liaison", f"{code}_a", department_code=department.code,
                                        liaison_slot="primary", email=f"{code}_a@hall.test")
        people[f"{code}_b"] = make_user("liaison", f"{code}_b", department_code=department.code,
                                        liaison_slot="backup", email=f"{code}_b@hall.test")
    return people


ENTRUST = {"name": "年产十万台精密机床项目", "project_type": "IND_PERMIT", "location": "经开区创业路8号",
           "investment_wan": "32000", "contact_name": "张经理", "contact_phone": "138-0000-0001"}


@pytest.fixture
def entrust_body():
    return dict(ENTRUST)
