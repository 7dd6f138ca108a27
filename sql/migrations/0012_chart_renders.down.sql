DROP TABLE IF EXISTS chart_renders;
