"""``flask agency demo``: a believable hall to click through."""
from datetime import datetime

from sqlalchemy import select

import config as settings
from agency.audit.services import SYSTEM
from agency.catalog.services import import_catalog, import_project_types
from agency.people.models import User
from agency.people.services import create_user

PASSWORD = "demo-pass-2026"
DATA = settings.ROOT.parent / "shared" / "data"
BUNDLED = settings.ROOT / "agency" / "data"

USERS = [
    ("director", "director", "王主任", {}),
    ("agent", "agent1", "李代办", {"phone": "0571-8800-1001"}),
    ("agent", "agent2", "赵代办", {"phone": "0571-8800-1002"}),
    ("enterprise", "ent1", "张经理", {"organization": "华东精密制造有限公司", "phone": "138-0000-0001"}),
    ("enterprise", "ent2", "陈总", {"organization": "青禾食品科技有限公司", "phone": "138-0000-0002"}),
    ("liaison", "fgw_a", "发改A角", {"department_code": "FGW", "liaison_slot": "primary"}),
    ("liaison", "fgw_b", "发改B角", {"department_code": "FGW", "liaison_slot": "backup"}),
    ("liaison", "zrgh_a", "规划A角", {"department_code": "ZRGH", "liaison_slot": "primary"}),
    ("liaison", "zrgh_b", "规划B角", {"department_code": "ZRGH", "liaison_slot": "backup"}),
    ("liaison", "zj_a", "住建A角", {"department_code": "ZJ", "liaison_slot": "primary"}),
    ("liaison", "zj_b", "住建B角", {"department_code": "ZJ", "liaison_slot": "backup"}),
    ("liaison", "sthj_a", "环保A角", {"department_code": "STHJ", "liaison_slot": "primary"}),
    ("liaison", "rf_a", "人防A角", {"department_code": "RF", "liaison_slot": "primary"}),
    ("liaison", "qx_a", "气象A角", {"department_code": "QX", "liaison_slot": "primary"}),
    ("liaison", "sl_a", "水利A角", {"department_code": "SL", "liaison_slot": "primary"}),
    ("liaison", "da_a", "档案A角", {"department_code": "DA", "liaison_slot": "primary"}),
    ("liaison", "scjg_a", "市监A角", {"department_code": "SCJG", "liaison_slot": "primary"}),
    ("liaison", "ga_a", "公安A角", {"department_code": "GA", "liaison_slot": "primary"}),
    ("liaison", "sw_a", "税务A角", {"department_code": "SW", "liaison_slot": "primary"}),
    ("liaison", "rs_a", "人社A角", {"department_code": "RS", "liaison_slot": "primary"}),
    ("liaison", "bdc_a", "不动产A角", {"department_code": "BDC", "liaison_slot": "primary"}),
]


def sample_file(name: str):
    """The shared sample data, or the copy bundled with the package."""
    for folder in (DATA, BUNDLED):
        if (folder / name).exists():
            return folder / name
    raise FileNotFoundError(name)


def build_demo(session, now: datetime) -> list[tuple[str, str, str]]:
    """Catalog, users of every role and projects in several states.  Idempotent."""
    import_catalog(session, now, SYSTEM, sample_file("catalog.sample.csv").read_text(encoding="utf-8"))
    import_project_types(session, now, SYSTEM, sample_file("project_types.sample.csv").read_text(encoding="utf-8"))
    users = {}
    for role, username, name, extra in USERS:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            user = create_user(session, now, SYSTEM, role=role, username=username, password=PASSWORD,
                               name=name, email=f"{username}@demo.hall.example.cn", **extra)
        users[username] = user
    from agency.demo_projects import build_projects
    build_projects(session, now, users)
    return [(role, username, PASSWORD) for role, username in LISTED]


# The sign-ins printed: every demo user but the backup liaisons (except fgw_b, to try the A/B handover).
LISTED = [(role, username) for role, username, _, _ in USERS
          if role != "liaison" or username.endswith("_a") or username in ("fgw_b",)]


def demo_sign_ins(session) -> list[tuple[str, str, str]]:
    """The printed demo sign-ins that still work: the user exists, is active and keeps the demo password.

    ``make run`` prints them at every start, not only the first (one password check per listed user).
    """
    from agency.people.services import check_password
    users = {u.username: u for u in session.scalars(select(User).where(User.username.in_([n for _, n in LISTED])))}
    return [(role, username, PASSWORD) for role, username in LISTED
            if username in users and users[username].active and check_password(users[username], PASSWORD)]
