"""Registration (捞鱼): one member per mobile, with the input rules for mobiles and nicknames."""
