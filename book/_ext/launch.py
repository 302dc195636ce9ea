"""Launch buttons (Binder, Colab; `launch_buttons` in _config.yml) open a page's executed notebook in the
repository the book is published from, which only the publishing workflow knows.

As a Sphinx extension (local_extensions in _config.yml): where no repository URL is configured (a local build),
the launch buttons are dropped; sphinx-book-theme 1.3 would fail on every notebook page without one.
As a script, the repository filled in: _config.yml with `repository.url` and `repository.branch` set and its
local extensions' paths made absolute, written where the build wants it (the Makefile's html target does this when
given REPOSITORY_URL, as the publishing workflow does):

    python book/_ext/launch.py _config.yml https://github.com/OWNER/NAME main _build/_config.yml
"""
import sys
from pathlib import Path


def _drop_without_repository(app, config):
    options = config.html_theme_options
    if not options.get("repository_url"):
        options.pop("launch_buttons", None)


def setup(app):
    app.connect("config-inited", _drop_without_repository)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


def with_repository(config: Path, url: str, branch: str, out: Path) -> Path:
    """Write `config` with the repository `url` and `branch` to `out`; paths of local extensions stay valid."""
    import yaml

    data = yaml.safe_load(config.read_text())
    data.setdefault("repository", {}).update(url=url, branch=branch)
    extensions = data.get("sphinx", {}).get("local_extensions") or {}
    for name, folder in extensions.items():  # relative to the config file's folder: the copy lives elsewhere
        extensions[name] = str((config.resolve().parent / folder).resolve())
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    return out


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    with_repository(Path(sys.argv[1]), sys.argv[2], sys.argv[3], Path(sys.argv[4]))
