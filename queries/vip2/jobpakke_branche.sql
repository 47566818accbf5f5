-- description: VIP2: job packages since the programme's start per municipality, quarter, trade (branche), sector and kind (an original package or a new one), for the secretariat's overview
-- params:
-- tables: jobpakke_forloeb, settings
-- period_key: period
-- columns: program utf8, municipality_code int32, municipality utf8, period utf8, branche utf8, sektor utf8, pakketype utf8, jobpakker int64
-- order_by: period, municipality_code, branche, sektor, pakketype
select st.program, f.municipality_code, f.municipality, f.period, f.branche, f.sektor, f.pakketype,
       count(*) as jobpakker
from jobpakke_forloeb f
cross join settings st
group by st.program, f.municipality_code, f.municipality, f.period, f.branche, f.sektor, f.pakketype
