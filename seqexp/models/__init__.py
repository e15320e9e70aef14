"""Model builders: `build_*(spec, **params) -> keras.Model`, one family per module.

Each builder is named by `_target_` in conf/model/<preset>.yaml and marked with the input kinds
it can take (`@accepts`), so a mismatch is refused before any data is loaded.
"""
