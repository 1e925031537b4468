"""Birthday points (生日积分): each active member's tier gives points once a year, on their birthday."""
