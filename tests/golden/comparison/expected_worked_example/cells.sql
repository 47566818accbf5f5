select sex, age_band, months_band, persons, meeting from population_cells where metric = 'M1' order by municipality_code, sex
