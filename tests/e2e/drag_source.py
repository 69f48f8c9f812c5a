#!/usr/bin/python3
"""A minimal GTK drag source for the end-to-end tests: a window at (X, Y) holding one button
that, when dragged, offers the given files as text/uri-list — what a file manager does.

usage: drag_source.py X Y FILE...
Prints "ready" once the window is shown; exits when it receives SIGTERM.
"""
import sys
from pathlib import Path

import gi

gi.require_version("Gtk", "3.0")
gi.require_version("Gdk", "3.0")
from gi.repository import Gdk, GLib, Gtk  # noqa: E402

x, y = int(sys.argv[1]), int(sys.argv[2])
uris = [Path(p).resolve().as_uri() for p in sys.argv[3:]]

window = Gtk.Window(title="e2e drag source")
window.set_default_size(120, 80)
window.move(x, y)
button = Gtk.Button(label="drag me")
button.drag_source_set(Gdk.ModifierType.BUTTON1_MASK, [], Gdk.DragAction.COPY)
button.drag_source_add_uri_targets()
button.connect("drag-data-get", lambda _w, _ctx, data, _info, _time: data.set_uris(uris))
window.add(button)
window.connect("destroy", Gtk.main_quit)
window.show_all()
GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, 15, Gtk.main_quit)
GLib.idle_add(lambda: print("ready", flush=True) and False)
Gtk.main()
