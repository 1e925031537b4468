"""Daily check-in (签到): once per member per Asia/Shanghai day, streaks, rewards by streak day, make-up."""
