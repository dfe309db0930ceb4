"""The template library: built-in templates as data files, their format, checks and customization.

``data/<category>/<slug>.json`` holds one template per file (decision 0048). :mod:`.loader`
reads and checks them all at start; :mod:`.paths` and :mod:`.customize` apply a user's
overrides to a template's customizable fields; :mod:`.skeleton` computes the shape the
distinctness rule compares.
"""
