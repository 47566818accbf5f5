-- description: who may see what in the månedsbog: one row per recipient (an employee with an email) and department whose employee rows the recipient sees; every recipient sees the department figures of all departments of their municipality
-- params:
-- tables: fagsystem_medarbejdere
-- month_key: month
-- columns: kommune int32, month utf8, recipient_email utf8, recipient_id utf8, recipient_navn utf8, recipient_rolle utf8, afdeling utf8
-- order_by: kommune, month, recipient_email, afdeling
with recipients as (
    select kommune, month, medarbejder_id, navn, email, afdeling, rolle
    from fagsystem_medarbejdere
    where email is not null
),
departments as (
    select distinct kommune, month, afdeling from fagsystem_medarbejdere
)
select r.kommune,
       r.month,
       r.email as recipient_email,
       r.medarbejder_id as recipient_id,
       r.navn as recipient_navn,
       r.rolle as recipient_rolle,
       d.afdeling
from recipients r
join departments d on d.kommune = r.kommune and d.month = r.month
-- a leder sees employee figures for every department; everyone else for their own
where r.rolle = 'leder' or d.afdeling = r.afdeling
order by kommune, month, recipient_email, afdeling
