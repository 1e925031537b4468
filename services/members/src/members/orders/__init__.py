"""Orders (消费记录): purchases, refunds and behaviour events recorded by tills, shops and partner systems."""
