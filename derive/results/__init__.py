"""One module per artefact of ``results/``: its section, its checks and its tables or
figures, as typed records.
"""
