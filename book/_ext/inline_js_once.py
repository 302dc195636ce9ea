"""Sphinx 7 adds an inline script registered with app.add_js_file(None, body=...) twice (once as filename None,
once as ''; fixed in Sphinx 8.2, sphinx-doc/sphinx#13402): each page keeps the first copy only."""


def _once(app, pagename, templatename, context, doctree):
    seen, unique = set(), []
    for js in context.get("script_files", []):
        key = (js.filename or "", js.priority, tuple(sorted(js.attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(js)
    context["script_files"] = unique


def setup(app):
    app.connect("html-page-context", _once, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
