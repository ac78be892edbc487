/**
 * Redis pub/sub channel on which inventory announces stock signals (`inventoryEventsV1.InventoryEvent`, binary):
 * SoldOut when a promotion's last unit is reserved, StockAvailable when a release brings units back. Gateways
 * keep an in-memory sold-out set from it and answer 409 SOLD_OUT without calling inventory.
 */
export const INVENTORY_EVENTS_CHANNEL = 'flashsale:inventory-events';
