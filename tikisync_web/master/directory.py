"""The auxiliary services a clone calls while importing field definitions (§5.6):
user/list_users, category/list_categories, translation/manage, and the version route."""
from ..fields import choices
from ..models import ROLES, Field, Item, User
from .errors import bad_request, not_found
from .params import MAX_ID, is_number, valid_id
from .shapes import GROUP_ROLES


def _roles(params):
    """Roles named by `groupIds` (our role groups' ids, or role names); unknown ones ignored."""
    value = params.tree.get("groupIds")
    if value is None or value == "":
        return set()
    values = list(value.values()) if isinstance(value, dict) else [value]
    roles = set()
    for item in values:
        if isinstance(item, dict):
            raise bad_request("groupIds must be a list of group ids")
        text = item.strip()
        if is_number(text) and int(text) in GROUP_ROLES:
            roles.add(GROUP_ROLES[int(text)])
        elif text in ROLES:
            roles.add(text)
    return roles


def list_users(params, user):
    """Active users by login, paged; `groupIds` limits them to roles. Never password hashes."""
    roles = _roles(params)
    query = User.select(User.id, User.username, User.role).where(User.active == True)  # noqa: E712
    if roles:
        query = query.where(User.role.in_(sorted(roles)))
    count = query.count()
    offset = max(0, min(params.integer("offset", 0), MAX_ID))
    limit = params.integer("maxRecords", -1)
    query = query.order_by(User.username, User.id)
    if limit >= 0:
        query = query.limit(min(limit, MAX_ID))
    if offset:
        query = query.offset(offset)
    rows = [] if limit == 0 else query.tuples()
    return {"result": [{"userId": uid, "login": name, "groups": [role]}
                       for uid, name, role in rows], "count": count}


def list_categories(params, user):
    """Our categories are the `categId=Name` choices of local category fields, all at the
    top level: an object keyed by categId, as Tiki answers."""
    parent = params.integer("parentId", 0)
    categories = {}
    if not parent:  # a flat list: no category has children
        category_fields = Field.select(Field.id, Field.options).where(Field.type == "e")
        for field in category_fields.order_by(Field.id):
            for value, label in choices(field.options):
                if value and value not in categories:
                    categories[value] = {"categId": int(value) if is_number(value) else value,
                                         "name": label, "parentId": 0}
    return categories


def translation_manage(params, user):
    """Tiki links translated items; we keep no such links, so every item has none."""
    object_type = params.text("type")
    if object_type != "trackeritem":
        raise not_found(f"Translations of {object_type or 'nothing'} are not kept here")
    source = params.integer("source", required=True)
    if not (valid_id(source) and Item.select().where(Item.id == source).exists()):
        raise not_found(f"Item {source} does not exist")
    return {"type": object_type, "source": source, "translations": []}


def version(params, user):
    from .. import __version__

    # The Tiki version whose web services we answer like (tiki-examples/ were recorded on it),
    # and what we serve beyond Tiki: `updates`, many items' updates in one request.
    return {"version": "24.1", "tikisync": __version__, "updates": True}
