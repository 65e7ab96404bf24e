"""The agency-service (代办) case-management application."""
from flask import Flask

import config as settings
from agency import api, cli, models  # noqa: F401  (models: complete metadata)
from agency.api import fields as api_fields
from agency.audit import keys as audit_keys
from agency.extensions import babel, csrf, db, limiter, login, migrate
from agency.json_provider import OrjsonProvider
from agency.web import errors, i18n, security


def create_app(config: str | type | None = None) -> Flask:
    app = Flask(__name__, template_folder="../templates", static_folder="../static", instance_relative_config=False)
    app.json = OrjsonProvider(app)
    app.config.from_object(config if isinstance(config, type) else settings.load(config))
    api_fields.init_app(app)  # bounded path ids, before any route

    db.init_app(app)
    migrate.init_app(app, db, directory=str(settings.ROOT / "migrations"))
    login.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=i18n.select_timezone)
    limiter.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    i18n.init_app(app)
    cli.init_app(app)
    audit_keys.init_app(app)
    app.extensions["mail_outbox"] = []  # MAIL_BACKEND=memory keeps sent e-mail here

    from agency.calendar import api as calendar_api
    from agency.catalog import api as catalog_api, views as catalog_views
    from agency.meetings import api as meetings_api, views as meetings_views
    from agency.people import api as people_api, views as people_views
    from agency.projects import api as projects_api
    from agency.tasks import api as tasks_api
    from agency.web import views as web_views

    app.register_blueprint(web_views.bp)
    app.register_blueprint(people_views.bp)
    app.register_blueprint(catalog_views.bp)
    from agency.notifications import views as notifications_views
    from agency.projects import views as projects_views
    from agency.tasks import views as tasks_views
    app.register_blueprint(projects_views.bp)
    app.register_blueprint(tasks_views.bp)
    app.register_blueprint(notifications_views.bp)
    from agency.director import api as director_api, views as director_views
    from agency.supervision import api as supervision_api, views as supervision_views
    app.register_blueprint(director_views.bp)
    app.register_blueprint(supervision_views.bp)
    from agency.enterprise import api as enterprise_api, views as enterprise_views
    app.register_blueprint(enterprise_views.bp)
    app.register_blueprint(meetings_views.bp)
    from agency.materials import api as materials_api, views as materials_views
    from agency.results import api as results_api, views as results_views
    from agency.visits import api as visits_api, views as visits_views
    from agency.guide import api as guide_api, views as guide_views
    from agency.comments import api as comments_api, views as comments_views
    app.register_blueprint(materials_views.bp)
    app.register_blueprint(results_views.bp)
    app.register_blueprint(visits_views.bp)
    app.register_blueprint(guide_views.bp)
    from agency.jobs import views as jobs_views
    app.register_blueprint(jobs_views.bp)
    app.register_blueprint(comments_views.bp)
    api.init_app(app, [people_api.blp, people_api.users_blp, catalog_api.blp, calendar_api.blp, projects_api.blp,
                       tasks_api.blp, director_api.blp, supervision_api.blp, enterprise_api.blp, meetings_api.blp,
                       materials_api.blp, results_api.blp, visits_api.blp, guide_api.blp,
                       comments_api.blp])
    return app
