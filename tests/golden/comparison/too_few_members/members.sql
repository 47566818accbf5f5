select member_code, period, role, contributes, reason from peer_comparison_members where municipality_code = 217 and role = 'member' order by period desc, member_code
