"""Charts of the metagame: Vega-Lite specifications, rendered to SVG/PNG by the workers.

* :mod:`pipelines.charts.data` — rows from the statistics readers (the one place that knows
  their field names);
* :mod:`pipelines.charts.specs` — one declarative Vega-Lite spec per chart;
* :mod:`pipelines.charts.build` — the charts of one format × window × event group;
* :mod:`pipelines.charts.render` — drawing and storing them after a refresh (workers);
* :mod:`pipelines.charts.store` — reading the stored renders (API and pages).
"""
