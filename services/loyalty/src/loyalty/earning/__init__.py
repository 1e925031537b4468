"""Points from purchases: order.paid earns pending points, released after the lock period; order.refunded
reverses them in proportion; member.registered gives the card-opening gift."""
