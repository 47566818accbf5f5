select municipality_code, member_code, member, period, role, contributes, reason from peer_comparison_members where municipality_code = 350 order by period desc, member_code
