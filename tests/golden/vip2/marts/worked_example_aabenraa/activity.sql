select sex, startede, afsluttede, afbrudte, i_gang, i_alt, borgere_i_alt from jobpakke_activity where municipality_code = 580 and period = '2019Q3' order by sex
