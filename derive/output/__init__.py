"""Writing the results: the Jinja environment, atomic output folders, the caches of
the parts and the pipeline that ``make`` runs.
"""
