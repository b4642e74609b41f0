"""The three URL shapes, all mapped onto the same Actions.

Gen A  {prefix}/tiki-ajax_services.php?controller=C&action=A   (Tiki 8-23; HTTP Basic)
Gen B  {prefix}/tiki-api.php?route=PATH                       (Tiki 24+; Bearer token)
       {prefix}/api/PATH                                       (Tiki's rewrite of the same)
"""
from flask import request
from werkzeug.routing import Rule

from . import access
from .actions import gen_a_action, gen_b_route
from .blueprint import bp
from .errors import bad_request, json_response, not_allowed
from .params import read_request

METHODS = ["GET", "POST"]


def _run(action, params, user):
    if action.role is not None:
        access.require(user, action.role)
    answer = action.handler(params, user)
    return json_response(answer) if isinstance(answer, dict) else answer


@bp.route("/tiki-ajax_services.php", methods=METHODS, endpoint="ajax_services")
def ajax_services():
    """Gen A: Tiki's broker; reads may be GET or POST, writes only POST."""
    user = access.identify("A")
    params = read_request(request)
    controller, name = params.text("controller").strip(), params.text("action").strip()
    if not controller or not name:
        raise bad_request("controller and action are required")
    action = gen_a_action(controller, name)
    allowed = ("POST",) if action.write else ("GET", "POST")
    method = "GET" if request.method == "HEAD" else request.method
    if method not in allowed:
        raise not_allowed(request.method, allowed)
    return _run(action, params, user)


@bp.route("/tiki-api.php", methods=METHODS, endpoint="api")
def api():
    """Gen B: `route` names the resource, with raw or %2F-encoded slashes."""
    return _rest(request.args.get("route", ""))


@bp.route("/api/", defaults={"route": ""}, methods=METHODS, endpoint="api_path")
@bp.route("/api/<path:route>", methods=METHODS, endpoint="api_path")
def api_path(route):
    """Gen B through Tiki's URL rewriting: /api/trackers/1 is route=trackers/1."""
    return _rest(route)


def _rest(path):
    user = access.identify("B")
    route, values = gen_b_route(path, request.method)
    params = read_request(request, path_values=values, defaults=route.defaults)
    return _run(route.action, params, user)


@bp.record_once
def _any_method(state):
    """Let every HTTP method reach our views, so a wrong one (PUT, DELETE, TRACE, ...) is
    answered in JSON by our handlers instead of by werkzeug's router with the host's HTML
    405 page. Flask's add_url_rule cannot register a rule without methods; werkzeug can."""
    prefix = ".".join(part for part in (state.name_prefix, state.name) if part) + "."
    for rule in list(state.app.url_map.iter_rules()):
        if rule.endpoint.startswith(prefix) and rule.methods is not None:
            state.app.url_map.add(Rule(rule.rule, endpoint=rule.endpoint, defaults=rule.defaults,
                                       subdomain=rule.subdomain, host=rule.host, methods=None))
