// Generated from themes/*.toml (a test checks they stay the same): the built-in themes, so that
// hellotune works wherever its binary is copied.
enum BuiltinThemes {
    static let dark = """
# hellotune dark theme (the default): for terminals with a dark background.
# Each table is a style role; fg/bg: default, black, red, green, yellow, blue, magenta, cyan, white,
# bright-<colour>, or a palette index 0-255 (terminals with fewer colours get the nearest basic colour).
# attrs: any of bold, underline, reverse, dim.
name = "dark"

[normal]
fg = "default"
bg = "default"

[dim]
fg = 245

[accent]
fg = "cyan"
attrs = ["bold"]

[border]
fg = 240

[title]
fg = "bright-cyan"
attrs = ["bold"]

[selection]
fg = "black"
bg = "cyan"

[match]
fg = "bright-green"
attrs = ["bold", "underline"]

[mismatch]
fg = "bright-white"
bg = "red"
attrs = ["bold"]

[warning]
fg = "yellow"

[error]
fg = "bright-red"
attrs = ["bold"]

[chart]
fg = 117
"""

    static let light = """
# hellotune light theme: for terminals with a light background.
name = "light"

[normal]
fg = "default"
bg = "default"

[dim]
fg = 243

[accent]
fg = "blue"
attrs = ["bold"]

[border]
fg = 248

[title]
fg = 25
attrs = ["bold"]

[selection]
fg = "white"
bg = "blue"

[match]
fg = 28
attrs = ["bold", "underline"]

[mismatch]
fg = "white"
bg = 160
attrs = ["bold"]

[warning]
fg = 130

[error]
fg = 160
attrs = ["bold"]

[chart]
fg = 25
"""

    static let highContrast = """
# hellotune high-contrast theme: bright colours on black, and attributes that tell roles apart
# even without colour.
name = "high-contrast"

[normal]
fg = "bright-white"
bg = "black"

[dim]
fg = "white"
bg = "black"

[accent]
fg = "bright-yellow"
bg = "black"
attrs = ["bold"]

[border]
fg = "bright-white"
bg = "black"

[title]
fg = "bright-yellow"
bg = "black"
attrs = ["bold", "underline"]

[selection]
fg = "black"
bg = "bright-yellow"
attrs = ["bold"]

[match]
fg = "black"
bg = "bright-green"
attrs = ["bold", "underline"]

[mismatch]
fg = "bright-white"
bg = "red"
attrs = ["bold", "reverse"]

[warning]
fg = "bright-yellow"
bg = "black"
attrs = ["bold"]

[error]
fg = "bright-red"
bg = "black"
attrs = ["bold", "reverse"]

[chart]
fg = "bright-cyan"
bg = "black"
"""

}
