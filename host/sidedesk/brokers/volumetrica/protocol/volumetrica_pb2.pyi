# ruff: noqa
# fmt: off
# mypy: disable-error-code="type-arg"
# Generated from proto/volumetrica.proto by build/gen_proto.py: edit the .proto, not this.
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AccountSubscriptionMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SUBSCRIPTION_UNDEFINED: _ClassVar[AccountSubscriptionMode]
    SUBSCRIPTION_MANUAL: _ClassVar[AccountSubscriptionMode]
    SUBSCRIPTION_EXISTING: _ClassVar[AccountSubscriptionMode]
    SUBSCRIPTION_EXISTING_AND_NEW: _ClassVar[AccountSubscriptionMode]

class LoginReasonCode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LOGIN_CREDENTIALS: _ClassVar[LoginReasonCode]
    LOGIN_CONCURRENT_SESSION: _ClassVar[LoginReasonCode]
    LOGIN_UNEXPECTED_ERROR: _ClassVar[LoginReasonCode]

class SymbolCategory(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CATEGORY_UNSPECIFIED: _ClassVar[SymbolCategory]
    CATEGORY_FUTURE: _ClassVar[SymbolCategory]
    CATEGORY_FOREX: _ClassVar[SymbolCategory]
    CATEGORY_INDEX: _ClassVar[SymbolCategory]
    CATEGORY_OPTION: _ClassVar[SymbolCategory]
    CATEGORY_STOCK: _ClassVar[SymbolCategory]
    CATEGORY_CRYPTO_PERPETUAL: _ClassVar[SymbolCategory]
    CATEGORY_SPOT: _ClassVar[SymbolCategory]
    CATEGORY_ETF: _ClassVar[SymbolCategory]
    CATEGORY_CRYPTO_SPOT: _ClassVar[SymbolCategory]

class InfoMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INFO_UNSPECIFIED: _ClassVar[InfoMode]
    INFO_ACCOUNT: _ClassVar[InfoMode]
    INFO_ORDERS_AND_POSITIONS: _ClassVar[InfoMode]
    INFO_POSITIONS: _ClassVar[InfoMode]
    INFO_ACCOUNT_TRADING_SYMBOLS: _ClassVar[InfoMode]

class AccountStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STATUS_INITIALIZED: _ClassVar[AccountStatus]
    STATUS_ALL: _ClassVar[AccountStatus]
    STATUS_ENABLED: _ClassVar[AccountStatus]
    STATUS_SUCCESS: _ClassVar[AccountStatus]
    STATUS_FAILED: _ClassVar[AccountStatus]
    STATUS_DISABLED: _ClassVar[AccountStatus]

class AccountPermission(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PERMISSION_TRADING: _ClassVar[AccountPermission]
    PERMISSION_READ_ONLY: _ClassVar[AccountPermission]
    PERMISSION_RISK_PAUSE: _ClassVar[AccountPermission]
    PERMISSION_LIQUIDATE_ONLY: _ClassVar[AccountPermission]

class AccountMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MODE_EVALUATION: _ClassVar[AccountMode]
    MODE_SIM_FUNDED: _ClassVar[AccountMode]
    MODE_FUNDED: _ClassVar[AccountMode]
    MODE_LIVE: _ClassVar[AccountMode]
    MODE_TRIAL: _ClassVar[AccountMode]
    MODE_CONTEST: _ClassVar[AccountMode]
    MODE_TRAINING: _ClassVar[AccountMode]

class OrderType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ORDER_MARKET: _ClassVar[OrderType]
    ORDER_LIMIT: _ClassVar[OrderType]
    ORDER_STOP: _ClassVar[OrderType]
    ORDER_STOP_LIMIT: _ClassVar[OrderType]

class RequestSource(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SOURCE_UNKNOWN: _ClassVar[RequestSource]
    SOURCE_MANUAL: _ClassVar[RequestSource]
    SOURCE_AUTOMATIC: _ClassVar[RequestSource]
    SOURCE_COPY: _ClassVar[RequestSource]

class QuantityMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    QUANTITY_FIXED: _ClassVar[QuantityMode]
    QUANTITY_ALL: _ClassVar[QuantityMode]
    QUANTITY_ACCOUNT_COUNTERVALUE: _ClassVar[QuantityMode]

class OrderPositionFilter(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FILTER_ALL: _ClassVar[OrderPositionFilter]
    FILTER_BUY: _ClassVar[OrderPositionFilter]
    FILTER_SELL: _ClassVar[OrderPositionFilter]
    FILTER_WINNER: _ClassVar[OrderPositionFilter]
    FILTER_LOSER: _ClassVar[OrderPositionFilter]

class AccountHistoricalEntity(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    HISTORY_ALL: _ClassVar[AccountHistoricalEntity]
    HISTORY_ORDERS: _ClassVar[AccountHistoricalEntity]
    HISTORY_TRADES: _ClassVar[AccountHistoricalEntity]
    HISTORY_FILLS: _ClassVar[AccountHistoricalEntity]
    HISTORY_FILL_TRADES: _ClassVar[AccountHistoricalEntity]
SUBSCRIPTION_UNDEFINED: AccountSubscriptionMode
SUBSCRIPTION_MANUAL: AccountSubscriptionMode
SUBSCRIPTION_EXISTING: AccountSubscriptionMode
SUBSCRIPTION_EXISTING_AND_NEW: AccountSubscriptionMode
LOGIN_CREDENTIALS: LoginReasonCode
LOGIN_CONCURRENT_SESSION: LoginReasonCode
LOGIN_UNEXPECTED_ERROR: LoginReasonCode
CATEGORY_UNSPECIFIED: SymbolCategory
CATEGORY_FUTURE: SymbolCategory
CATEGORY_FOREX: SymbolCategory
CATEGORY_INDEX: SymbolCategory
CATEGORY_OPTION: SymbolCategory
CATEGORY_STOCK: SymbolCategory
CATEGORY_CRYPTO_PERPETUAL: SymbolCategory
CATEGORY_SPOT: SymbolCategory
CATEGORY_ETF: SymbolCategory
CATEGORY_CRYPTO_SPOT: SymbolCategory
INFO_UNSPECIFIED: InfoMode
INFO_ACCOUNT: InfoMode
INFO_ORDERS_AND_POSITIONS: InfoMode
INFO_POSITIONS: InfoMode
INFO_ACCOUNT_TRADING_SYMBOLS: InfoMode
STATUS_INITIALIZED: AccountStatus
STATUS_ALL: AccountStatus
STATUS_ENABLED: AccountStatus
STATUS_SUCCESS: AccountStatus
STATUS_FAILED: AccountStatus
STATUS_DISABLED: AccountStatus
PERMISSION_TRADING: AccountPermission
PERMISSION_READ_ONLY: AccountPermission
PERMISSION_RISK_PAUSE: AccountPermission
PERMISSION_LIQUIDATE_ONLY: AccountPermission
MODE_EVALUATION: AccountMode
MODE_SIM_FUNDED: AccountMode
MODE_FUNDED: AccountMode
MODE_LIVE: AccountMode
MODE_TRIAL: AccountMode
MODE_CONTEST: AccountMode
MODE_TRAINING: AccountMode
ORDER_MARKET: OrderType
ORDER_LIMIT: OrderType
ORDER_STOP: OrderType
ORDER_STOP_LIMIT: OrderType
SOURCE_UNKNOWN: RequestSource
SOURCE_MANUAL: RequestSource
SOURCE_AUTOMATIC: RequestSource
SOURCE_COPY: RequestSource
QUANTITY_FIXED: QuantityMode
QUANTITY_ALL: QuantityMode
QUANTITY_ACCOUNT_COUNTERVALUE: QuantityMode
FILTER_ALL: OrderPositionFilter
FILTER_BUY: OrderPositionFilter
FILTER_SELL: OrderPositionFilter
FILTER_WINNER: OrderPositionFilter
FILTER_LOSER: OrderPositionFilter
HISTORY_ALL: AccountHistoricalEntity
HISTORY_ORDERS: AccountHistoricalEntity
HISTORY_TRADES: AccountHistoricalEntity
HISTORY_FILLS: AccountHistoricalEntity
HISTORY_FILL_TRADES: AccountHistoricalEntity

class ClientRequestMsg(_message.Message):
    __slots__ = ("login_req", "ping", "info_req", "contract_req", "order", "log_msg", "symbol_lookup", "cancel_flat_req", "account_historical_session_req")
    LOGIN_REQ_FIELD_NUMBER: _ClassVar[int]
    PING_FIELD_NUMBER: _ClassVar[int]
    INFO_REQ_FIELD_NUMBER: _ClassVar[int]
    CONTRACT_REQ_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    LOG_MSG_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_LOOKUP_FIELD_NUMBER: _ClassVar[int]
    CANCEL_FLAT_REQ_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_HISTORICAL_SESSION_REQ_FIELD_NUMBER: _ClassVar[int]
    login_req: LoginRequestMsg
    ping: PingMsg
    info_req: InfoReqMsg
    contract_req: ContractReqMsg
    order: _containers.RepeatedCompositeFieldContainer[OrderMsg]
    log_msg: LogInfoMsg
    symbol_lookup: SymbolLookupReqMsg
    cancel_flat_req: CancelFlatReqMsg
    account_historical_session_req: AccountHistoricalSessionReqMsg
    def __init__(self, login_req: _Optional[_Union[LoginRequestMsg, _Mapping]] = ..., ping: _Optional[_Union[PingMsg, _Mapping]] = ..., info_req: _Optional[_Union[InfoReqMsg, _Mapping]] = ..., contract_req: _Optional[_Union[ContractReqMsg, _Mapping]] = ..., order: _Optional[_Iterable[_Union[OrderMsg, _Mapping]]] = ..., log_msg: _Optional[_Union[LogInfoMsg, _Mapping]] = ..., symbol_lookup: _Optional[_Union[SymbolLookupReqMsg, _Mapping]] = ..., cancel_flat_req: _Optional[_Union[CancelFlatReqMsg, _Mapping]] = ..., account_historical_session_req: _Optional[_Union[AccountHistoricalSessionReqMsg, _Mapping]] = ...) -> None: ...

class ServerResponseMsg(_message.Message):
    __slots__ = ("login_msg", "pong", "info_msg", "balance_info", "contract_msg", "order_info", "logged_off", "log_msg", "symbol_lookup", "position_info", "cancel_flat_msg", "bracket_info", "account_historical_session_resp")
    LOGIN_MSG_FIELD_NUMBER: _ClassVar[int]
    PONG_FIELD_NUMBER: _ClassVar[int]
    INFO_MSG_FIELD_NUMBER: _ClassVar[int]
    BALANCE_INFO_FIELD_NUMBER: _ClassVar[int]
    CONTRACT_MSG_FIELD_NUMBER: _ClassVar[int]
    ORDER_INFO_FIELD_NUMBER: _ClassVar[int]
    LOGGED_OFF_FIELD_NUMBER: _ClassVar[int]
    LOG_MSG_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_LOOKUP_FIELD_NUMBER: _ClassVar[int]
    POSITION_INFO_FIELD_NUMBER: _ClassVar[int]
    CANCEL_FLAT_MSG_FIELD_NUMBER: _ClassVar[int]
    BRACKET_INFO_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_HISTORICAL_SESSION_RESP_FIELD_NUMBER: _ClassVar[int]
    login_msg: LoginResponseMsg
    pong: PongMsg
    info_msg: InfoRespMsg
    balance_info: _containers.RepeatedCompositeFieldContainer[BalanceMsg]
    contract_msg: ContractRespMsg
    order_info: _containers.RepeatedCompositeFieldContainer[OrderInfoMsg]
    logged_off: LoggedOffMsg
    log_msg: LogInfoMsg
    symbol_lookup: SymbolLookupRespMsg
    position_info: _containers.RepeatedCompositeFieldContainer[PositionInfoMsg]
    cancel_flat_msg: CancelFlatRespMsg
    bracket_info: _containers.RepeatedCompositeFieldContainer[BracketInfoMsg]
    account_historical_session_resp: AccountHistoricalSessionRespMsg
    def __init__(self, login_msg: _Optional[_Union[LoginResponseMsg, _Mapping]] = ..., pong: _Optional[_Union[PongMsg, _Mapping]] = ..., info_msg: _Optional[_Union[InfoRespMsg, _Mapping]] = ..., balance_info: _Optional[_Iterable[_Union[BalanceMsg, _Mapping]]] = ..., contract_msg: _Optional[_Union[ContractRespMsg, _Mapping]] = ..., order_info: _Optional[_Iterable[_Union[OrderInfoMsg, _Mapping]]] = ..., logged_off: _Optional[_Union[LoggedOffMsg, _Mapping]] = ..., log_msg: _Optional[_Union[LogInfoMsg, _Mapping]] = ..., symbol_lookup: _Optional[_Union[SymbolLookupRespMsg, _Mapping]] = ..., position_info: _Optional[_Iterable[_Union[PositionInfoMsg, _Mapping]]] = ..., cancel_flat_msg: _Optional[_Union[CancelFlatRespMsg, _Mapping]] = ..., bracket_info: _Optional[_Iterable[_Union[BracketInfoMsg, _Mapping]]] = ..., account_historical_session_resp: _Optional[_Union[AccountHistoricalSessionRespMsg, _Mapping]] = ...) -> None: ...

class LoginRequestMsg(_message.Message):
    __slots__ = ("token", "otp_code", "is_manual_account_subscribe", "keep_concurrent_session_on", "account_subscription_mode")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    OTP_CODE_FIELD_NUMBER: _ClassVar[int]
    IS_MANUAL_ACCOUNT_SUBSCRIBE_FIELD_NUMBER: _ClassVar[int]
    KEEP_CONCURRENT_SESSION_ON_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_SUBSCRIPTION_MODE_FIELD_NUMBER: _ClassVar[int]
    token: str
    otp_code: str
    is_manual_account_subscribe: bool
    keep_concurrent_session_on: bool
    account_subscription_mode: AccountSubscriptionMode
    def __init__(self, token: _Optional[str] = ..., otp_code: _Optional[str] = ..., is_manual_account_subscribe: _Optional[bool] = ..., keep_concurrent_session_on: _Optional[bool] = ..., account_subscription_mode: _Optional[_Union[AccountSubscriptionMode, str]] = ...) -> None: ...

class LoginResponseMsg(_message.Message):
    __slots__ = ("success", "reason", "reason_code", "version")
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    REASON_CODE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    success: bool
    reason: str
    reason_code: LoginReasonCode
    version: int
    def __init__(self, success: _Optional[bool] = ..., reason: _Optional[str] = ..., reason_code: _Optional[_Union[LoginReasonCode, str]] = ..., version: _Optional[int] = ...) -> None: ...

class LoggedOffMsg(_message.Message):
    __slots__ = ("reason",)
    REASON_FIELD_NUMBER: _ClassVar[int]
    reason: str
    def __init__(self, reason: _Optional[str] = ...) -> None: ...

class PingMsg(_message.Message):
    __slots__ = ("connected", "ack_value")
    CONNECTED_FIELD_NUMBER: _ClassVar[int]
    ACK_VALUE_FIELD_NUMBER: _ClassVar[int]
    connected: bool
    ack_value: int
    def __init__(self, connected: _Optional[bool] = ..., ack_value: _Optional[int] = ...) -> None: ...

class PongMsg(_message.Message):
    __slots__ = ("connected", "ack_value")
    CONNECTED_FIELD_NUMBER: _ClassVar[int]
    ACK_VALUE_FIELD_NUMBER: _ClassVar[int]
    connected: bool
    ack_value: int
    def __init__(self, connected: _Optional[bool] = ..., ack_value: _Optional[int] = ...) -> None: ...

class LogInfoMsg(_message.Message):
    __slots__ = ("msg", "acc_number")
    MSG_FIELD_NUMBER: _ClassVar[int]
    ACC_NUMBER_FIELD_NUMBER: _ClassVar[int]
    msg: str
    acc_number: int
    def __init__(self, msg: _Optional[str] = ..., acc_number: _Optional[int] = ...) -> None: ...

class ContractReqMsg(_message.Message):
    __slots__ = ("feed_symbol", "category", "contract_id", "isin", "request_id")
    FEED_SYMBOL_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    CONTRACT_ID_FIELD_NUMBER: _ClassVar[int]
    ISIN_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    feed_symbol: str
    category: SymbolCategory
    contract_id: int
    isin: str
    request_id: int
    def __init__(self, feed_symbol: _Optional[str] = ..., category: _Optional[_Union[SymbolCategory, str]] = ..., contract_id: _Optional[int] = ..., isin: _Optional[str] = ..., request_id: _Optional[int] = ...) -> None: ...

class ContractRespMsg(_message.Message):
    __slots__ = ("feed_symbol", "category", "contract_id", "contract_info", "request_id", "is_final")
    FEED_SYMBOL_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    CONTRACT_ID_FIELD_NUMBER: _ClassVar[int]
    CONTRACT_INFO_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    IS_FINAL_FIELD_NUMBER: _ClassVar[int]
    feed_symbol: str
    category: SymbolCategory
    contract_id: int
    contract_info: ContractInfoMsg
    request_id: int
    is_final: bool
    def __init__(self, feed_symbol: _Optional[str] = ..., category: _Optional[_Union[SymbolCategory, str]] = ..., contract_id: _Optional[int] = ..., contract_info: _Optional[_Union[ContractInfoMsg, _Mapping]] = ..., request_id: _Optional[int] = ..., is_final: _Optional[bool] = ...) -> None: ...

class ContractInfoMsg(_message.Message):
    __slots__ = ("contract_name", "symbol", "exchange", "description", "tick_size", "tick_value", "is_stock", "feed_symbol", "tradable_quantity_fractionable", "tradable_quantity_multiplier", "contract_id", "symbol_id", "quote_currency", "base_currency", "tradable_quantity_minimum", "tradable_quantity_multiple", "category")
    CONTRACT_NAME_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    TICK_SIZE_FIELD_NUMBER: _ClassVar[int]
    TICK_VALUE_FIELD_NUMBER: _ClassVar[int]
    IS_STOCK_FIELD_NUMBER: _ClassVar[int]
    FEED_SYMBOL_FIELD_NUMBER: _ClassVar[int]
    TRADABLE_QUANTITY_FRACTIONABLE_FIELD_NUMBER: _ClassVar[int]
    TRADABLE_QUANTITY_MULTIPLIER_FIELD_NUMBER: _ClassVar[int]
    CONTRACT_ID_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_ID_FIELD_NUMBER: _ClassVar[int]
    QUOTE_CURRENCY_FIELD_NUMBER: _ClassVar[int]
    BASE_CURRENCY_FIELD_NUMBER: _ClassVar[int]
    TRADABLE_QUANTITY_MINIMUM_FIELD_NUMBER: _ClassVar[int]
    TRADABLE_QUANTITY_MULTIPLE_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    contract_name: str
    symbol: str
    exchange: str
    description: str
    tick_size: float
    tick_value: float
    is_stock: bool
    feed_symbol: str
    tradable_quantity_fractionable: int
    tradable_quantity_multiplier: float
    contract_id: int
    symbol_id: int
    quote_currency: str
    base_currency: str
    tradable_quantity_minimum: int
    tradable_quantity_multiple: int
    category: SymbolCategory
    def __init__(self, contract_name: _Optional[str] = ..., symbol: _Optional[str] = ..., exchange: _Optional[str] = ..., description: _Optional[str] = ..., tick_size: _Optional[float] = ..., tick_value: _Optional[float] = ..., is_stock: _Optional[bool] = ..., feed_symbol: _Optional[str] = ..., tradable_quantity_fractionable: _Optional[int] = ..., tradable_quantity_multiplier: _Optional[float] = ..., contract_id: _Optional[int] = ..., symbol_id: _Optional[int] = ..., quote_currency: _Optional[str] = ..., base_currency: _Optional[str] = ..., tradable_quantity_minimum: _Optional[int] = ..., tradable_quantity_multiple: _Optional[int] = ..., category: _Optional[_Union[SymbolCategory, str]] = ...) -> None: ...

class SymbolLookupReqMsg(_message.Message):
    __slots__ = ("request_id", "filter")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    request_id: int
    filter: str
    def __init__(self, request_id: _Optional[int] = ..., filter: _Optional[str] = ...) -> None: ...

class SymbolLookupRespMsg(_message.Message):
    __slots__ = ("request_id", "symbols")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    SYMBOLS_FIELD_NUMBER: _ClassVar[int]
    request_id: int
    symbols: _containers.RepeatedCompositeFieldContainer[SymbolLookupInfo]
    def __init__(self, request_id: _Optional[int] = ..., symbols: _Optional[_Iterable[_Union[SymbolLookupInfo, _Mapping]]] = ...) -> None: ...

class SymbolLookupInfo(_message.Message):
    __slots__ = ("symbol", "description", "exchange", "tick_size", "order_commission", "category", "data_feed_product", "contract_id", "trading_inhibited", "tradable_quantity_fractionable", "tradable_quantity_minimum")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    TICK_SIZE_FIELD_NUMBER: _ClassVar[int]
    ORDER_COMMISSION_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    DATA_FEED_PRODUCT_FIELD_NUMBER: _ClassVar[int]
    CONTRACT_ID_FIELD_NUMBER: _ClassVar[int]
    TRADING_INHIBITED_FIELD_NUMBER: _ClassVar[int]
    TRADABLE_QUANTITY_FRACTIONABLE_FIELD_NUMBER: _ClassVar[int]
    TRADABLE_QUANTITY_MINIMUM_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    description: str
    exchange: str
    tick_size: float
    order_commission: float
    category: SymbolCategory
    data_feed_product: str
    contract_id: int
    trading_inhibited: bool
    tradable_quantity_fractionable: int
    tradable_quantity_minimum: int
    def __init__(self, symbol: _Optional[str] = ..., description: _Optional[str] = ..., exchange: _Optional[str] = ..., tick_size: _Optional[float] = ..., order_commission: _Optional[float] = ..., category: _Optional[_Union[SymbolCategory, str]] = ..., data_feed_product: _Optional[str] = ..., contract_id: _Optional[int] = ..., trading_inhibited: _Optional[bool] = ..., tradable_quantity_fractionable: _Optional[int] = ..., tradable_quantity_minimum: _Optional[int] = ...) -> None: ...

class InfoReqMsg(_message.Message):
    __slots__ = ("mode", "request_id", "account_list_filter_status", "accounts", "modes")
    MODE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_LIST_FILTER_STATUS_FIELD_NUMBER: _ClassVar[int]
    ACCOUNTS_FIELD_NUMBER: _ClassVar[int]
    MODES_FIELD_NUMBER: _ClassVar[int]
    mode: InfoMode
    request_id: int
    account_list_filter_status: AccountStatus
    accounts: _containers.RepeatedScalarFieldContainer[int]
    modes: _containers.RepeatedScalarFieldContainer[InfoMode]
    def __init__(self, mode: _Optional[_Union[InfoMode, str]] = ..., request_id: _Optional[int] = ..., account_list_filter_status: _Optional[_Union[AccountStatus, str]] = ..., accounts: _Optional[_Iterable[int]] = ..., modes: _Optional[_Iterable[_Union[InfoMode, str]]] = ...) -> None: ...

class InfoRespMsg(_message.Message):
    __slots__ = ("account_list", "order_list", "request_id", "position_list", "bracket_list")
    ACCOUNT_LIST_FIELD_NUMBER: _ClassVar[int]
    ORDER_LIST_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    POSITION_LIST_FIELD_NUMBER: _ClassVar[int]
    BRACKET_LIST_FIELD_NUMBER: _ClassVar[int]
    account_list: _containers.RepeatedCompositeFieldContainer[AccountHeaderMsg]
    order_list: _containers.RepeatedCompositeFieldContainer[OrderInfoMsg]
    request_id: int
    position_list: _containers.RepeatedCompositeFieldContainer[PositionInfoMsg]
    bracket_list: _containers.RepeatedCompositeFieldContainer[BracketInfoMsg]
    def __init__(self, account_list: _Optional[_Iterable[_Union[AccountHeaderMsg, _Mapping]]] = ..., order_list: _Optional[_Iterable[_Union[OrderInfoMsg, _Mapping]]] = ..., request_id: _Optional[int] = ..., position_list: _Optional[_Iterable[_Union[PositionInfoMsg, _Mapping]]] = ..., bracket_list: _Optional[_Iterable[_Union[BracketInfoMsg, _Mapping]]] = ...) -> None: ...

class AccountHeaderMsg(_message.Message):
    __slots__ = ("account_number", "account_header", "account_description", "balance", "is_enabled", "status", "is_trading_enabled", "is_hedging", "account_reference_id", "permission", "currency", "archived", "organization_id", "organization_name", "mode")
    ACCOUNT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_HEADER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    BALANCE_FIELD_NUMBER: _ClassVar[int]
    IS_ENABLED_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    IS_TRADING_ENABLED_FIELD_NUMBER: _ClassVar[int]
    IS_HEDGING_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_REFERENCE_ID_FIELD_NUMBER: _ClassVar[int]
    PERMISSION_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    ARCHIVED_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_NAME_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    account_number: int
    account_header: str
    account_description: str
    balance: BalanceMsg
    is_enabled: bool
    status: AccountStatus
    is_trading_enabled: bool
    is_hedging: bool
    account_reference_id: str
    permission: AccountPermission
    currency: str
    archived: bool
    organization_id: int
    organization_name: str
    mode: AccountMode
    def __init__(self, account_number: _Optional[int] = ..., account_header: _Optional[str] = ..., account_description: _Optional[str] = ..., balance: _Optional[_Union[BalanceMsg, _Mapping]] = ..., is_enabled: _Optional[bool] = ..., status: _Optional[_Union[AccountStatus, str]] = ..., is_trading_enabled: _Optional[bool] = ..., is_hedging: _Optional[bool] = ..., account_reference_id: _Optional[str] = ..., permission: _Optional[_Union[AccountPermission, str]] = ..., currency: _Optional[str] = ..., archived: _Optional[bool] = ..., organization_id: _Optional[int] = ..., organization_name: _Optional[str] = ..., mode: _Optional[_Union[AccountMode, str]] = ...) -> None: ...

class BalanceMsg(_message.Message):
    __slots__ = ("balance", "acc_number", "description", "margin_used", "stop_drawdown_overall", "stop_drawdown_intraday", "profit_target", "margin_available", "stop_drawdown_weekly", "equity", "daily_pl", "daily_net_pl")
    BALANCE_FIELD_NUMBER: _ClassVar[int]
    ACC_NUMBER_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    MARGIN_USED_FIELD_NUMBER: _ClassVar[int]
    STOP_DRAWDOWN_OVERALL_FIELD_NUMBER: _ClassVar[int]
    STOP_DRAWDOWN_INTRADAY_FIELD_NUMBER: _ClassVar[int]
    PROFIT_TARGET_FIELD_NUMBER: _ClassVar[int]
    MARGIN_AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    STOP_DRAWDOWN_WEEKLY_FIELD_NUMBER: _ClassVar[int]
    EQUITY_FIELD_NUMBER: _ClassVar[int]
    DAILY_PL_FIELD_NUMBER: _ClassVar[int]
    DAILY_NET_PL_FIELD_NUMBER: _ClassVar[int]
    balance: float
    acc_number: int
    description: str
    margin_used: float
    stop_drawdown_overall: float
    stop_drawdown_intraday: float
    profit_target: float
    margin_available: float
    stop_drawdown_weekly: float
    equity: float
    daily_pl: float
    daily_net_pl: float
    def __init__(self, balance: _Optional[float] = ..., acc_number: _Optional[int] = ..., description: _Optional[str] = ..., margin_used: _Optional[float] = ..., stop_drawdown_overall: _Optional[float] = ..., stop_drawdown_intraday: _Optional[float] = ..., profit_target: _Optional[float] = ..., margin_available: _Optional[float] = ..., stop_drawdown_weekly: _Optional[float] = ..., equity: _Optional[float] = ..., daily_pl: _Optional[float] = ..., daily_net_pl: _Optional[float] = ...) -> None: ...

class PositionInfoMsg(_message.Message):
    __slots__ = ("contract_id", "open_quantity", "open_price", "margin_used", "daily_bought", "daily_sold", "daily_pl", "has_open_pl", "open_pl", "daily_commissions", "snap_type", "acc_number", "feed_symbol", "isin", "position_id", "utc", "entry_order_id")
    class SnapType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        POSITION_SNAP_UNSPECIFIED: _ClassVar[PositionInfoMsg.SnapType]
        POSITION_HISTORICAL: _ClassVar[PositionInfoMsg.SnapType]
        POSITION_REAL_TIME: _ClassVar[PositionInfoMsg.SnapType]
    POSITION_SNAP_UNSPECIFIED: PositionInfoMsg.SnapType
    POSITION_HISTORICAL: PositionInfoMsg.SnapType
    POSITION_REAL_TIME: PositionInfoMsg.SnapType
    CONTRACT_ID_FIELD_NUMBER: _ClassVar[int]
    OPEN_QUANTITY_FIELD_NUMBER: _ClassVar[int]
    OPEN_PRICE_FIELD_NUMBER: _ClassVar[int]
    MARGIN_USED_FIELD_NUMBER: _ClassVar[int]
    DAILY_BOUGHT_FIELD_NUMBER: _ClassVar[int]
    DAILY_SOLD_FIELD_NUMBER: _ClassVar[int]
    DAILY_PL_FIELD_NUMBER: _ClassVar[int]
    HAS_OPEN_PL_FIELD_NUMBER: _ClassVar[int]
    OPEN_PL_FIELD_NUMBER: _ClassVar[int]
    DAILY_COMMISSIONS_FIELD_NUMBER: _ClassVar[int]
    SNAP_TYPE_FIELD_NUMBER: _ClassVar[int]
    ACC_NUMBER_FIELD_NUMBER: _ClassVar[int]
    FEED_SYMBOL_FIELD_NUMBER: _ClassVar[int]
    ISIN_FIELD_NUMBER: _ClassVar[int]
    POSITION_ID_FIELD_NUMBER: _ClassVar[int]
    UTC_FIELD_NUMBER: _ClassVar[int]
    ENTRY_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    contract_id: int
    open_quantity: int
    open_price: float
    margin_used: float
    daily_bought: int
    daily_sold: int
    daily_pl: float
    has_open_pl: bool
    open_pl: float
    daily_commissions: float
    snap_type: PositionInfoMsg.SnapType
    acc_number: int
    feed_symbol: str
    isin: str
    position_id: int
    utc: int
    entry_order_id: int
    def __init__(self, contract_id: _Optional[int] = ..., open_quantity: _Optional[int] = ..., open_price: _Optional[float] = ..., margin_used: _Optional[float] = ..., daily_bought: _Optional[int] = ..., daily_sold: _Optional[int] = ..., daily_pl: _Optional[float] = ..., has_open_pl: _Optional[bool] = ..., open_pl: _Optional[float] = ..., daily_commissions: _Optional[float] = ..., snap_type: _Optional[_Union[PositionInfoMsg.SnapType, str]] = ..., acc_number: _Optional[int] = ..., feed_symbol: _Optional[str] = ..., isin: _Optional[str] = ..., position_id: _Optional[int] = ..., utc: _Optional[int] = ..., entry_order_id: _Optional[int] = ...) -> None: ...

class OrderMsg(_message.Message):
    __slots__ = ("order_insert", "order_remove", "order_modify")
    ORDER_INSERT_FIELD_NUMBER: _ClassVar[int]
    ORDER_REMOVE_FIELD_NUMBER: _ClassVar[int]
    ORDER_MODIFY_FIELD_NUMBER: _ClassVar[int]
    order_insert: OrderInsertMsg
    order_remove: OrderRemoveMsg
    order_modify: OrderModifyMsg
    def __init__(self, order_insert: _Optional[_Union[OrderInsertMsg, _Mapping]] = ..., order_remove: _Optional[_Union[OrderRemoveMsg, _Mapping]] = ..., order_modify: _Optional[_Union[OrderModifyMsg, _Mapping]] = ...) -> None: ...

class OrderInsertMsg(_message.Message):
    __slots__ = ("contract_id", "seq_client_id", "quantity", "price", "order_type", "acc_number", "limit_price", "bracket_strategy", "ref_position_id", "source", "quantity_mode")
    CONTRACT_ID_FIELD_NUMBER: _ClassVar[int]
    SEQ_CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    ORDER_TYPE_FIELD_NUMBER: _ClassVar[int]
    ACC_NUMBER_FIELD_NUMBER: _ClassVar[int]
    LIMIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    BRACKET_STRATEGY_FIELD_NUMBER: _ClassVar[int]
    REF_POSITION_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_MODE_FIELD_NUMBER: _ClassVar[int]
    contract_id: int
    seq_client_id: int
    quantity: int
    price: float
    order_type: OrderType
    acc_number: int
    limit_price: float
    bracket_strategy: BracketStrategy
    ref_position_id: int
    source: RequestSource
    quantity_mode: QuantityMode
    def __init__(self, contract_id: _Optional[int] = ..., seq_client_id: _Optional[int] = ..., quantity: _Optional[int] = ..., price: _Optional[float] = ..., order_type: _Optional[_Union[OrderType, str]] = ..., acc_number: _Optional[int] = ..., limit_price: _Optional[float] = ..., bracket_strategy: _Optional[_Union[BracketStrategy, _Mapping]] = ..., ref_position_id: _Optional[int] = ..., source: _Optional[_Union[RequestSource, str]] = ..., quantity_mode: _Optional[_Union[QuantityMode, str]] = ...) -> None: ...

class OrderModifyMsg(_message.Message):
    __slots__ = ("contract_id", "org_server_id", "new_seq_client_id", "quantity", "price", "acc_number", "limit_price", "source")
    CONTRACT_ID_FIELD_NUMBER: _ClassVar[int]
    ORG_SERVER_ID_FIELD_NUMBER: _ClassVar[int]
    NEW_SEQ_CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    ACC_NUMBER_FIELD_NUMBER: _ClassVar[int]
    LIMIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    contract_id: int
    org_server_id: int
    new_seq_client_id: int
    quantity: int
    price: float
    acc_number: int
    limit_price: float
    source: RequestSource
    def __init__(self, contract_id: _Optional[int] = ..., org_server_id: _Optional[int] = ..., new_seq_client_id: _Optional[int] = ..., quantity: _Optional[int] = ..., price: _Optional[float] = ..., acc_number: _Optional[int] = ..., limit_price: _Optional[float] = ..., source: _Optional[_Union[RequestSource, str]] = ...) -> None: ...

class OrderRemoveMsg(_message.Message):
    __slots__ = ("org_server_id", "acc_number", "source")
    ORG_SERVER_ID_FIELD_NUMBER: _ClassVar[int]
    ACC_NUMBER_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    org_server_id: int
    acc_number: int
    source: RequestSource
    def __init__(self, org_server_id: _Optional[int] = ..., acc_number: _Optional[int] = ..., source: _Optional[_Union[RequestSource, str]] = ...) -> None: ...

class BracketStrategy(_message.Message):
    __slots__ = ("kind", "stops", "targets")
    class Kind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STOP_AND_TARGET: _ClassVar[BracketStrategy.Kind]
        STOP_AND_TARGET_STATIC: _ClassVar[BracketStrategy.Kind]
        STOP_ONLY: _ClassVar[BracketStrategy.Kind]
        STOP_ONLY_STATIC: _ClassVar[BracketStrategy.Kind]
        TARGET_ONLY: _ClassVar[BracketStrategy.Kind]
        TARGET_ONLY_STATIC: _ClassVar[BracketStrategy.Kind]
    STOP_AND_TARGET: BracketStrategy.Kind
    STOP_AND_TARGET_STATIC: BracketStrategy.Kind
    STOP_ONLY: BracketStrategy.Kind
    STOP_ONLY_STATIC: BracketStrategy.Kind
    TARGET_ONLY: BracketStrategy.Kind
    TARGET_ONLY_STATIC: BracketStrategy.Kind
    KIND_FIELD_NUMBER: _ClassVar[int]
    STOPS_FIELD_NUMBER: _ClassVar[int]
    TARGETS_FIELD_NUMBER: _ClassVar[int]
    kind: BracketStrategy.Kind
    stops: _containers.RepeatedCompositeFieldContainer[BracketLeg]
    targets: _containers.RepeatedCompositeFieldContainer[BracketLeg]
    def __init__(self, kind: _Optional[_Union[BracketStrategy.Kind, str]] = ..., stops: _Optional[_Iterable[_Union[BracketLeg, _Mapping]]] = ..., targets: _Optional[_Iterable[_Union[BracketLeg, _Mapping]]] = ...) -> None: ...

class BracketLeg(_message.Message):
    __slots__ = ("quantity", "price_mode", "ticks_offset", "price")
    class PriceMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        BY_TICKS: _ClassVar[BracketLeg.PriceMode]
        BY_PRICE: _ClassVar[BracketLeg.PriceMode]
        BY_PRICE_OFFSET: _ClassVar[BracketLeg.PriceMode]
    BY_TICKS: BracketLeg.PriceMode
    BY_PRICE: BracketLeg.PriceMode
    BY_PRICE_OFFSET: BracketLeg.PriceMode
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    PRICE_MODE_FIELD_NUMBER: _ClassVar[int]
    TICKS_OFFSET_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    quantity: int
    price_mode: BracketLeg.PriceMode
    ticks_offset: int
    price: float
    def __init__(self, quantity: _Optional[int] = ..., price_mode: _Optional[_Union[BracketLeg.PriceMode, str]] = ..., ticks_offset: _Optional[int] = ..., price: _Optional[float] = ...) -> None: ...

class OrderInfoMsg(_message.Message):
    __slots__ = ("contract_id", "org_server_id", "org_client_id", "seq_server_id", "seq_client_id", "order_price", "order_limit_price", "pending_qty", "filled_qty", "order_type", "order_state", "avg_price", "snap_type", "acc_number", "reason", "feed_symbol", "isin", "oco_linked_group_id", "oco_linked_order_ids", "oco_parent_order_id", "position_link_id", "is_generated_from_bracket", "quantity_mode", "insert_utc", "execution_utc", "ip", "source", "is_validation_error", "message_timestamp")
    class State(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        SUBMITTED: _ClassVar[OrderInfoMsg.State]
        CANCELED: _ClassVar[OrderInfoMsg.State]
        ERROR: _ClassVar[OrderInfoMsg.State]
        ERROR_MODIFY: _ClassVar[OrderInfoMsg.State]
        PENDING_REQUEST: _ClassVar[OrderInfoMsg.State]
        PENDING_MODIFY: _ClassVar[OrderInfoMsg.State]
        PENDING_CANCEL: _ClassVar[OrderInfoMsg.State]
    SUBMITTED: OrderInfoMsg.State
    CANCELED: OrderInfoMsg.State
    ERROR: OrderInfoMsg.State
    ERROR_MODIFY: OrderInfoMsg.State
    PENDING_REQUEST: OrderInfoMsg.State
    PENDING_MODIFY: OrderInfoMsg.State
    PENDING_CANCEL: OrderInfoMsg.State
    class SnapType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        ORDER_SNAP_UNSPECIFIED: _ClassVar[OrderInfoMsg.SnapType]
        HISTORICAL: _ClassVar[OrderInfoMsg.SnapType]
        REAL_TIME: _ClassVar[OrderInfoMsg.SnapType]
        HIST_POS: _ClassVar[OrderInfoMsg.SnapType]
    ORDER_SNAP_UNSPECIFIED: OrderInfoMsg.SnapType
    HISTORICAL: OrderInfoMsg.SnapType
    REAL_TIME: OrderInfoMsg.SnapType
    HIST_POS: OrderInfoMsg.SnapType
    CONTRACT_ID_FIELD_NUMBER: _ClassVar[int]
    ORG_SERVER_ID_FIELD_NUMBER: _ClassVar[int]
    ORG_CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    SEQ_SERVER_ID_FIELD_NUMBER: _ClassVar[int]
    SEQ_CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_PRICE_FIELD_NUMBER: _ClassVar[int]
    ORDER_LIMIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    PENDING_QTY_FIELD_NUMBER: _ClassVar[int]
    FILLED_QTY_FIELD_NUMBER: _ClassVar[int]
    ORDER_TYPE_FIELD_NUMBER: _ClassVar[int]
    ORDER_STATE_FIELD_NUMBER: _ClassVar[int]
    AVG_PRICE_FIELD_NUMBER: _ClassVar[int]
    SNAP_TYPE_FIELD_NUMBER: _ClassVar[int]
    ACC_NUMBER_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    FEED_SYMBOL_FIELD_NUMBER: _ClassVar[int]
    ISIN_FIELD_NUMBER: _ClassVar[int]
    OCO_LINKED_GROUP_ID_FIELD_NUMBER: _ClassVar[int]
    OCO_LINKED_ORDER_IDS_FIELD_NUMBER: _ClassVar[int]
    OCO_PARENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    POSITION_LINK_ID_FIELD_NUMBER: _ClassVar[int]
    IS_GENERATED_FROM_BRACKET_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_MODE_FIELD_NUMBER: _ClassVar[int]
    INSERT_UTC_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_UTC_FIELD_NUMBER: _ClassVar[int]
    IP_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    IS_VALIDATION_ERROR_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    contract_id: int
    org_server_id: int
    org_client_id: int
    seq_server_id: int
    seq_client_id: int
    order_price: float
    order_limit_price: float
    pending_qty: int
    filled_qty: int
    order_type: OrderType
    order_state: OrderInfoMsg.State
    avg_price: float
    snap_type: OrderInfoMsg.SnapType
    acc_number: int
    reason: str
    feed_symbol: str
    isin: str
    oco_linked_group_id: int
    oco_linked_order_ids: _containers.RepeatedScalarFieldContainer[int]
    oco_parent_order_id: int
    position_link_id: int
    is_generated_from_bracket: bool
    quantity_mode: QuantityMode
    insert_utc: int
    execution_utc: int
    ip: str
    source: str
    is_validation_error: bool
    message_timestamp: int
    def __init__(self, contract_id: _Optional[int] = ..., org_server_id: _Optional[int] = ..., org_client_id: _Optional[int] = ..., seq_server_id: _Optional[int] = ..., seq_client_id: _Optional[int] = ..., order_price: _Optional[float] = ..., order_limit_price: _Optional[float] = ..., pending_qty: _Optional[int] = ..., filled_qty: _Optional[int] = ..., order_type: _Optional[_Union[OrderType, str]] = ..., order_state: _Optional[_Union[OrderInfoMsg.State, str]] = ..., avg_price: _Optional[float] = ..., snap_type: _Optional[_Union[OrderInfoMsg.SnapType, str]] = ..., acc_number: _Optional[int] = ..., reason: _Optional[str] = ..., feed_symbol: _Optional[str] = ..., isin: _Optional[str] = ..., oco_linked_group_id: _Optional[int] = ..., oco_linked_order_ids: _Optional[_Iterable[int]] = ..., oco_parent_order_id: _Optional[int] = ..., position_link_id: _Optional[int] = ..., is_generated_from_bracket: _Optional[bool] = ..., quantity_mode: _Optional[_Union[QuantityMode, str]] = ..., insert_utc: _Optional[int] = ..., execution_utc: _Optional[int] = ..., ip: _Optional[str] = ..., source: _Optional[str] = ..., is_validation_error: _Optional[bool] = ..., message_timestamp: _Optional[int] = ...) -> None: ...

class BracketInfoMsg(_message.Message):
    __slots__ = ("contract_id", "parent_order_id", "oco_group_id", "bracket_id", "seq_client_id", "price", "ticks", "calculated_price", "total_qty", "released_qty", "is_target", "bracket_state", "snap_type", "acc_number", "reason", "feed_symbol")
    class State(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        WAITING: _ClassVar[BracketInfoMsg.State]
        SUBMITTED: _ClassVar[BracketInfoMsg.State]
        CANCELLED: _ClassVar[BracketInfoMsg.State]
        ERROR: _ClassVar[BracketInfoMsg.State]
        PENDING: _ClassVar[BracketInfoMsg.State]
    WAITING: BracketInfoMsg.State
    SUBMITTED: BracketInfoMsg.State
    CANCELLED: BracketInfoMsg.State
    ERROR: BracketInfoMsg.State
    PENDING: BracketInfoMsg.State
    class SnapType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        BRACKET_SNAP_UNSPECIFIED: _ClassVar[BracketInfoMsg.SnapType]
        BRACKET_HISTORICAL: _ClassVar[BracketInfoMsg.SnapType]
        BRACKET_REAL_TIME: _ClassVar[BracketInfoMsg.SnapType]
    BRACKET_SNAP_UNSPECIFIED: BracketInfoMsg.SnapType
    BRACKET_HISTORICAL: BracketInfoMsg.SnapType
    BRACKET_REAL_TIME: BracketInfoMsg.SnapType
    CONTRACT_ID_FIELD_NUMBER: _ClassVar[int]
    PARENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    OCO_GROUP_ID_FIELD_NUMBER: _ClassVar[int]
    BRACKET_ID_FIELD_NUMBER: _ClassVar[int]
    SEQ_CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    TICKS_FIELD_NUMBER: _ClassVar[int]
    CALCULATED_PRICE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_QTY_FIELD_NUMBER: _ClassVar[int]
    RELEASED_QTY_FIELD_NUMBER: _ClassVar[int]
    IS_TARGET_FIELD_NUMBER: _ClassVar[int]
    BRACKET_STATE_FIELD_NUMBER: _ClassVar[int]
    SNAP_TYPE_FIELD_NUMBER: _ClassVar[int]
    ACC_NUMBER_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    FEED_SYMBOL_FIELD_NUMBER: _ClassVar[int]
    contract_id: int
    parent_order_id: int
    oco_group_id: int
    bracket_id: int
    seq_client_id: int
    price: float
    ticks: int
    calculated_price: float
    total_qty: int
    released_qty: int
    is_target: bool
    bracket_state: BracketInfoMsg.State
    snap_type: BracketInfoMsg.SnapType
    acc_number: int
    reason: str
    feed_symbol: str
    def __init__(self, contract_id: _Optional[int] = ..., parent_order_id: _Optional[int] = ..., oco_group_id: _Optional[int] = ..., bracket_id: _Optional[int] = ..., seq_client_id: _Optional[int] = ..., price: _Optional[float] = ..., ticks: _Optional[int] = ..., calculated_price: _Optional[float] = ..., total_qty: _Optional[int] = ..., released_qty: _Optional[int] = ..., is_target: _Optional[bool] = ..., bracket_state: _Optional[_Union[BracketInfoMsg.State, str]] = ..., snap_type: _Optional[_Union[BracketInfoMsg.SnapType, str]] = ..., acc_number: _Optional[int] = ..., reason: _Optional[str] = ..., feed_symbol: _Optional[str] = ...) -> None: ...

class CancelFlatReqMsg(_message.Message):
    __slots__ = ("request_id", "acc_number", "contract_ids", "action", "source", "filter", "cancel_exclude_oco")
    class Action(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        FLAT: _ClassVar[CancelFlatReqMsg.Action]
        CANCEL: _ClassVar[CancelFlatReqMsg.Action]
        FLAT_CANCEL: _ClassVar[CancelFlatReqMsg.Action]
    FLAT: CancelFlatReqMsg.Action
    CANCEL: CancelFlatReqMsg.Action
    FLAT_CANCEL: CancelFlatReqMsg.Action
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ACC_NUMBER_FIELD_NUMBER: _ClassVar[int]
    CONTRACT_IDS_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    CANCEL_EXCLUDE_OCO_FIELD_NUMBER: _ClassVar[int]
    request_id: int
    acc_number: int
    contract_ids: _containers.RepeatedScalarFieldContainer[int]
    action: CancelFlatReqMsg.Action
    source: RequestSource
    filter: OrderPositionFilter
    cancel_exclude_oco: bool
    def __init__(self, request_id: _Optional[int] = ..., acc_number: _Optional[int] = ..., contract_ids: _Optional[_Iterable[int]] = ..., action: _Optional[_Union[CancelFlatReqMsg.Action, str]] = ..., source: _Optional[_Union[RequestSource, str]] = ..., filter: _Optional[_Union[OrderPositionFilter, str]] = ..., cancel_exclude_oco: _Optional[bool] = ...) -> None: ...

class CancelFlatRespMsg(_message.Message):
    __slots__ = ("request_id", "acc_number", "errors", "items")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ACC_NUMBER_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    request_id: int
    acc_number: int
    errors: _containers.RepeatedCompositeFieldContainer[CancelFlatError]
    items: _containers.RepeatedCompositeFieldContainer[CancelFlatItem]
    def __init__(self, request_id: _Optional[int] = ..., acc_number: _Optional[int] = ..., errors: _Optional[_Iterable[_Union[CancelFlatError, _Mapping]]] = ..., items: _Optional[_Iterable[_Union[CancelFlatItem, _Mapping]]] = ...) -> None: ...

class CancelFlatItem(_message.Message):
    __slots__ = ("is_position", "feed_symbol", "contract_id", "position_id", "order_id")
    IS_POSITION_FIELD_NUMBER: _ClassVar[int]
    FEED_SYMBOL_FIELD_NUMBER: _ClassVar[int]
    CONTRACT_ID_FIELD_NUMBER: _ClassVar[int]
    POSITION_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    is_position: bool
    feed_symbol: str
    contract_id: int
    position_id: int
    order_id: int
    def __init__(self, is_position: _Optional[bool] = ..., feed_symbol: _Optional[str] = ..., contract_id: _Optional[int] = ..., position_id: _Optional[int] = ..., order_id: _Optional[int] = ...) -> None: ...

class CancelFlatError(_message.Message):
    __slots__ = ("contract_id", "error")
    CONTRACT_ID_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    contract_id: int
    error: str
    def __init__(self, contract_id: _Optional[int] = ..., error: _Optional[str] = ...) -> None: ...

class AccountHistoricalSessionReqMsg(_message.Message):
    __slots__ = ("request_id", "account_ids", "entity")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_IDS_FIELD_NUMBER: _ClassVar[int]
    ENTITY_FIELD_NUMBER: _ClassVar[int]
    request_id: int
    account_ids: _containers.RepeatedScalarFieldContainer[int]
    entity: AccountHistoricalEntity
    def __init__(self, request_id: _Optional[int] = ..., account_ids: _Optional[_Iterable[int]] = ..., entity: _Optional[_Union[AccountHistoricalEntity, str]] = ...) -> None: ...

class AccountHistoricalSessionRespMsg(_message.Message):
    __slots__ = ("request_id", "orders", "is_partial")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ORDERS_FIELD_NUMBER: _ClassVar[int]
    IS_PARTIAL_FIELD_NUMBER: _ClassVar[int]
    request_id: int
    orders: _containers.RepeatedCompositeFieldContainer[OrderInfoMsg]
    is_partial: bool
    def __init__(self, request_id: _Optional[int] = ..., orders: _Optional[_Iterable[_Union[OrderInfoMsg, _Mapping]]] = ..., is_partial: _Optional[bool] = ...) -> None: ...

class ClientRequestMsgV5(_message.Message):
    __slots__ = ("login_req", "ping", "info_req", "contract_req", "order", "log_msg", "symbol_lookup", "cancel_flat_req")
    LOGIN_REQ_FIELD_NUMBER: _ClassVar[int]
    PING_FIELD_NUMBER: _ClassVar[int]
    INFO_REQ_FIELD_NUMBER: _ClassVar[int]
    CONTRACT_REQ_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    LOG_MSG_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_LOOKUP_FIELD_NUMBER: _ClassVar[int]
    CANCEL_FLAT_REQ_FIELD_NUMBER: _ClassVar[int]
    login_req: LoginRequestMsgV5
    ping: PingMsg
    info_req: InfoReqMsg
    contract_req: ContractReqMsg
    order: _containers.RepeatedCompositeFieldContainer[OrderMsgV5]
    log_msg: LogInfoMsg
    symbol_lookup: SymbolLookupReqMsg
    cancel_flat_req: CancelFlatReqMsgV5
    def __init__(self, login_req: _Optional[_Union[LoginRequestMsgV5, _Mapping]] = ..., ping: _Optional[_Union[PingMsg, _Mapping]] = ..., info_req: _Optional[_Union[InfoReqMsg, _Mapping]] = ..., contract_req: _Optional[_Union[ContractReqMsg, _Mapping]] = ..., order: _Optional[_Iterable[_Union[OrderMsgV5, _Mapping]]] = ..., log_msg: _Optional[_Union[LogInfoMsg, _Mapping]] = ..., symbol_lookup: _Optional[_Union[SymbolLookupReqMsg, _Mapping]] = ..., cancel_flat_req: _Optional[_Union[CancelFlatReqMsgV5, _Mapping]] = ...) -> None: ...

class ServerResponseMsgV5(_message.Message):
    __slots__ = ("login_msg", "pong", "info_msg", "balance_info", "contract_msg", "order_info", "logged_off", "log_msg", "symbol_lookup", "position_info", "cancel_flat_msg", "bracket_info")
    LOGIN_MSG_FIELD_NUMBER: _ClassVar[int]
    PONG_FIELD_NUMBER: _ClassVar[int]
    INFO_MSG_FIELD_NUMBER: _ClassVar[int]
    BALANCE_INFO_FIELD_NUMBER: _ClassVar[int]
    CONTRACT_MSG_FIELD_NUMBER: _ClassVar[int]
    ORDER_INFO_FIELD_NUMBER: _ClassVar[int]
    LOGGED_OFF_FIELD_NUMBER: _ClassVar[int]
    LOG_MSG_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_LOOKUP_FIELD_NUMBER: _ClassVar[int]
    POSITION_INFO_FIELD_NUMBER: _ClassVar[int]
    CANCEL_FLAT_MSG_FIELD_NUMBER: _ClassVar[int]
    BRACKET_INFO_FIELD_NUMBER: _ClassVar[int]
    login_msg: LoginResponseMsgV5
    pong: PongMsg
    info_msg: InfoRespMsgV5
    balance_info: _containers.RepeatedCompositeFieldContainer[BalanceMsg]
    contract_msg: ContractRespMsg
    order_info: _containers.RepeatedCompositeFieldContainer[OrderInfoMsgV5]
    logged_off: LoggedOffMsg
    log_msg: LogInfoMsg
    symbol_lookup: SymbolLookupRespMsg
    position_info: _containers.RepeatedCompositeFieldContainer[PositionInfoMsgV5]
    cancel_flat_msg: CancelFlatRespMsgV5
    bracket_info: _containers.RepeatedCompositeFieldContainer[BracketInfoMsgV5]
    def __init__(self, login_msg: _Optional[_Union[LoginResponseMsgV5, _Mapping]] = ..., pong: _Optional[_Union[PongMsg, _Mapping]] = ..., info_msg: _Optional[_Union[InfoRespMsgV5, _Mapping]] = ..., balance_info: _Optional[_Iterable[_Union[BalanceMsg, _Mapping]]] = ..., contract_msg: _Optional[_Union[ContractRespMsg, _Mapping]] = ..., order_info: _Optional[_Iterable[_Union[OrderInfoMsgV5, _Mapping]]] = ..., logged_off: _Optional[_Union[LoggedOffMsg, _Mapping]] = ..., log_msg: _Optional[_Union[LogInfoMsg, _Mapping]] = ..., symbol_lookup: _Optional[_Union[SymbolLookupRespMsg, _Mapping]] = ..., position_info: _Optional[_Iterable[_Union[PositionInfoMsgV5, _Mapping]]] = ..., cancel_flat_msg: _Optional[_Union[CancelFlatRespMsgV5, _Mapping]] = ..., bracket_info: _Optional[_Iterable[_Union[BracketInfoMsgV5, _Mapping]]] = ...) -> None: ...

class CancelFlatReqMsgV5(_message.Message):
    __slots__ = ("request_id", "acc_number", "contract_ids", "action")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ACC_NUMBER_FIELD_NUMBER: _ClassVar[int]
    CONTRACT_IDS_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    request_id: int
    acc_number: int
    contract_ids: _containers.RepeatedScalarFieldContainer[int]
    action: CancelFlatReqMsg.Action
    def __init__(self, request_id: _Optional[int] = ..., acc_number: _Optional[int] = ..., contract_ids: _Optional[_Iterable[int]] = ..., action: _Optional[_Union[CancelFlatReqMsg.Action, str]] = ...) -> None: ...

class CancelFlatRespMsgV5(_message.Message):
    __slots__ = ("request_id", "acc_number", "errors")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ACC_NUMBER_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    request_id: int
    acc_number: int
    errors: _containers.RepeatedCompositeFieldContainer[CancelFlatError]
    def __init__(self, request_id: _Optional[int] = ..., acc_number: _Optional[int] = ..., errors: _Optional[_Iterable[_Union[CancelFlatError, _Mapping]]] = ...) -> None: ...

class LoginRequestMsgV5(_message.Message):
    __slots__ = ("token", "otp_code", "is_manual_account_subscribe")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    OTP_CODE_FIELD_NUMBER: _ClassVar[int]
    IS_MANUAL_ACCOUNT_SUBSCRIBE_FIELD_NUMBER: _ClassVar[int]
    token: str
    otp_code: str
    is_manual_account_subscribe: bool
    def __init__(self, token: _Optional[str] = ..., otp_code: _Optional[str] = ..., is_manual_account_subscribe: _Optional[bool] = ...) -> None: ...

class LoginResponseMsgV5(_message.Message):
    __slots__ = ("success", "reason")
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    success: bool
    reason: str
    def __init__(self, success: _Optional[bool] = ..., reason: _Optional[str] = ...) -> None: ...

class InfoRespMsgV5(_message.Message):
    __slots__ = ("account_list", "order_list", "request_id", "position_list", "bracket_list")
    ACCOUNT_LIST_FIELD_NUMBER: _ClassVar[int]
    ORDER_LIST_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    POSITION_LIST_FIELD_NUMBER: _ClassVar[int]
    BRACKET_LIST_FIELD_NUMBER: _ClassVar[int]
    account_list: _containers.RepeatedCompositeFieldContainer[AccountHeaderMsgV5]
    order_list: _containers.RepeatedCompositeFieldContainer[OrderInfoMsgV5]
    request_id: int
    position_list: _containers.RepeatedCompositeFieldContainer[PositionInfoMsgV5]
    bracket_list: _containers.RepeatedCompositeFieldContainer[BracketInfoMsgV5]
    def __init__(self, account_list: _Optional[_Iterable[_Union[AccountHeaderMsgV5, _Mapping]]] = ..., order_list: _Optional[_Iterable[_Union[OrderInfoMsgV5, _Mapping]]] = ..., request_id: _Optional[int] = ..., position_list: _Optional[_Iterable[_Union[PositionInfoMsgV5, _Mapping]]] = ..., bracket_list: _Optional[_Iterable[_Union[BracketInfoMsgV5, _Mapping]]] = ...) -> None: ...

class AccountHeaderMsgV5(_message.Message):
    __slots__ = ("account_number", "account_header", "account_description", "balance", "is_trading_enabled", "status")
    ACCOUNT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_HEADER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    BALANCE_FIELD_NUMBER: _ClassVar[int]
    IS_TRADING_ENABLED_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    account_number: int
    account_header: str
    account_description: str
    balance: BalanceMsg
    is_trading_enabled: bool
    status: AccountStatus
    def __init__(self, account_number: _Optional[int] = ..., account_header: _Optional[str] = ..., account_description: _Optional[str] = ..., balance: _Optional[_Union[BalanceMsg, _Mapping]] = ..., is_trading_enabled: _Optional[bool] = ..., status: _Optional[_Union[AccountStatus, str]] = ...) -> None: ...

class PositionInfoMsgV5(_message.Message):
    __slots__ = ("contract_id", "open_quantity", "open_price", "margin_used", "daily_bought", "daily_sold", "daily_pl", "has_open_pl", "open_pl", "daily_commissions", "snap_type", "acc_number", "feed_symbol", "isin")
    CONTRACT_ID_FIELD_NUMBER: _ClassVar[int]
    OPEN_QUANTITY_FIELD_NUMBER: _ClassVar[int]
    OPEN_PRICE_FIELD_NUMBER: _ClassVar[int]
    MARGIN_USED_FIELD_NUMBER: _ClassVar[int]
    DAILY_BOUGHT_FIELD_NUMBER: _ClassVar[int]
    DAILY_SOLD_FIELD_NUMBER: _ClassVar[int]
    DAILY_PL_FIELD_NUMBER: _ClassVar[int]
    HAS_OPEN_PL_FIELD_NUMBER: _ClassVar[int]
    OPEN_PL_FIELD_NUMBER: _ClassVar[int]
    DAILY_COMMISSIONS_FIELD_NUMBER: _ClassVar[int]
    SNAP_TYPE_FIELD_NUMBER: _ClassVar[int]
    ACC_NUMBER_FIELD_NUMBER: _ClassVar[int]
    FEED_SYMBOL_FIELD_NUMBER: _ClassVar[int]
    ISIN_FIELD_NUMBER: _ClassVar[int]
    contract_id: int
    open_quantity: int
    open_price: float
    margin_used: float
    daily_bought: int
    daily_sold: int
    daily_pl: float
    has_open_pl: bool
    open_pl: float
    daily_commissions: float
    snap_type: PositionInfoMsg.SnapType
    acc_number: int
    feed_symbol: str
    isin: str
    def __init__(self, contract_id: _Optional[int] = ..., open_quantity: _Optional[int] = ..., open_price: _Optional[float] = ..., margin_used: _Optional[float] = ..., daily_bought: _Optional[int] = ..., daily_sold: _Optional[int] = ..., daily_pl: _Optional[float] = ..., has_open_pl: _Optional[bool] = ..., open_pl: _Optional[float] = ..., daily_commissions: _Optional[float] = ..., snap_type: _Optional[_Union[PositionInfoMsg.SnapType, str]] = ..., acc_number: _Optional[int] = ..., feed_symbol: _Optional[str] = ..., isin: _Optional[str] = ...) -> None: ...

class OrderMsgV5(_message.Message):
    __slots__ = ("order_insert", "order_remove", "order_modify")
    ORDER_INSERT_FIELD_NUMBER: _ClassVar[int]
    ORDER_REMOVE_FIELD_NUMBER: _ClassVar[int]
    ORDER_MODIFY_FIELD_NUMBER: _ClassVar[int]
    order_insert: OrderInsertMsgV5
    order_remove: OrderRemoveMsgV5
    order_modify: OrderModifyMsgV5
    def __init__(self, order_insert: _Optional[_Union[OrderInsertMsgV5, _Mapping]] = ..., order_remove: _Optional[_Union[OrderRemoveMsgV5, _Mapping]] = ..., order_modify: _Optional[_Union[OrderModifyMsgV5, _Mapping]] = ...) -> None: ...

class OrderInsertMsgV5(_message.Message):
    __slots__ = ("contract_id", "seq_client_id", "quantity", "price", "order_type", "acc_number", "limit_price", "bracket_strategy")
    CONTRACT_ID_FIELD_NUMBER: _ClassVar[int]
    SEQ_CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    ORDER_TYPE_FIELD_NUMBER: _ClassVar[int]
    ACC_NUMBER_FIELD_NUMBER: _ClassVar[int]
    LIMIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    BRACKET_STRATEGY_FIELD_NUMBER: _ClassVar[int]
    contract_id: int
    seq_client_id: int
    quantity: int
    price: float
    order_type: OrderType
    acc_number: int
    limit_price: float
    bracket_strategy: BracketStrategyV5
    def __init__(self, contract_id: _Optional[int] = ..., seq_client_id: _Optional[int] = ..., quantity: _Optional[int] = ..., price: _Optional[float] = ..., order_type: _Optional[_Union[OrderType, str]] = ..., acc_number: _Optional[int] = ..., limit_price: _Optional[float] = ..., bracket_strategy: _Optional[_Union[BracketStrategyV5, _Mapping]] = ...) -> None: ...

class OrderModifyMsgV5(_message.Message):
    __slots__ = ("contract_id", "org_server_id", "new_seq_client_id", "quantity", "price", "acc_number", "limit_price")
    CONTRACT_ID_FIELD_NUMBER: _ClassVar[int]
    ORG_SERVER_ID_FIELD_NUMBER: _ClassVar[int]
    NEW_SEQ_CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    ACC_NUMBER_FIELD_NUMBER: _ClassVar[int]
    LIMIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    contract_id: int
    org_server_id: int
    new_seq_client_id: int
    quantity: int
    price: float
    acc_number: int
    limit_price: float
    def __init__(self, contract_id: _Optional[int] = ..., org_server_id: _Optional[int] = ..., new_seq_client_id: _Optional[int] = ..., quantity: _Optional[int] = ..., price: _Optional[float] = ..., acc_number: _Optional[int] = ..., limit_price: _Optional[float] = ...) -> None: ...

class OrderRemoveMsgV5(_message.Message):
    __slots__ = ("org_server_id", "acc_number")
    ORG_SERVER_ID_FIELD_NUMBER: _ClassVar[int]
    ACC_NUMBER_FIELD_NUMBER: _ClassVar[int]
    org_server_id: int
    acc_number: int
    def __init__(self, org_server_id: _Optional[int] = ..., acc_number: _Optional[int] = ...) -> None: ...

class BracketStrategyV5(_message.Message):
    __slots__ = ("kind", "stops", "targets")
    KIND_FIELD_NUMBER: _ClassVar[int]
    STOPS_FIELD_NUMBER: _ClassVar[int]
    TARGETS_FIELD_NUMBER: _ClassVar[int]
    kind: BracketStrategy.Kind
    stops: _containers.RepeatedCompositeFieldContainer[BracketLegV5]
    targets: _containers.RepeatedCompositeFieldContainer[BracketLegV5]
    def __init__(self, kind: _Optional[_Union[BracketStrategy.Kind, str]] = ..., stops: _Optional[_Iterable[_Union[BracketLegV5, _Mapping]]] = ..., targets: _Optional[_Iterable[_Union[BracketLegV5, _Mapping]]] = ...) -> None: ...

class BracketLegV5(_message.Message):
    __slots__ = ("quantity", "price_mode", "ticks_offset", "price")
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    PRICE_MODE_FIELD_NUMBER: _ClassVar[int]
    TICKS_OFFSET_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    quantity: int
    price_mode: BracketLeg.PriceMode
    ticks_offset: int
    price: float
    def __init__(self, quantity: _Optional[int] = ..., price_mode: _Optional[_Union[BracketLeg.PriceMode, str]] = ..., ticks_offset: _Optional[int] = ..., price: _Optional[float] = ...) -> None: ...

class OrderInfoMsgV5(_message.Message):
    __slots__ = ("contract_id", "org_server_id", "org_client_id", "seq_server_id", "seq_client_id", "order_price", "order_limit_price", "pending_qty", "filled_qty", "order_type", "order_state", "avg_price", "snap_type", "acc_number", "reason", "feed_symbol", "isin", "oco_linked_group_id", "oco_linked_order_ids", "oco_parent_order_id")
    CONTRACT_ID_FIELD_NUMBER: _ClassVar[int]
    ORG_SERVER_ID_FIELD_NUMBER: _ClassVar[int]
    ORG_CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    SEQ_SERVER_ID_FIELD_NUMBER: _ClassVar[int]
    SEQ_CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_PRICE_FIELD_NUMBER: _ClassVar[int]
    ORDER_LIMIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    PENDING_QTY_FIELD_NUMBER: _ClassVar[int]
    FILLED_QTY_FIELD_NUMBER: _ClassVar[int]
    ORDER_TYPE_FIELD_NUMBER: _ClassVar[int]
    ORDER_STATE_FIELD_NUMBER: _ClassVar[int]
    AVG_PRICE_FIELD_NUMBER: _ClassVar[int]
    SNAP_TYPE_FIELD_NUMBER: _ClassVar[int]
    ACC_NUMBER_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    FEED_SYMBOL_FIELD_NUMBER: _ClassVar[int]
    ISIN_FIELD_NUMBER: _ClassVar[int]
    OCO_LINKED_GROUP_ID_FIELD_NUMBER: _ClassVar[int]
    OCO_LINKED_ORDER_IDS_FIELD_NUMBER: _ClassVar[int]
    OCO_PARENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    contract_id: int
    org_server_id: int
    org_client_id: int
    seq_server_id: int
    seq_client_id: int
    order_price: float
    order_limit_price: float
    pending_qty: int
    filled_qty: int
    order_type: OrderType
    order_state: OrderInfoMsg.State
    avg_price: float
    snap_type: OrderInfoMsg.SnapType
    acc_number: int
    reason: str
    feed_symbol: str
    isin: str
    oco_linked_group_id: int
    oco_linked_order_ids: _containers.RepeatedScalarFieldContainer[int]
    oco_parent_order_id: int
    def __init__(self, contract_id: _Optional[int] = ..., org_server_id: _Optional[int] = ..., org_client_id: _Optional[int] = ..., seq_server_id: _Optional[int] = ..., seq_client_id: _Optional[int] = ..., order_price: _Optional[float] = ..., order_limit_price: _Optional[float] = ..., pending_qty: _Optional[int] = ..., filled_qty: _Optional[int] = ..., order_type: _Optional[_Union[OrderType, str]] = ..., order_state: _Optional[_Union[OrderInfoMsg.State, str]] = ..., avg_price: _Optional[float] = ..., snap_type: _Optional[_Union[OrderInfoMsg.SnapType, str]] = ..., acc_number: _Optional[int] = ..., reason: _Optional[str] = ..., feed_symbol: _Optional[str] = ..., isin: _Optional[str] = ..., oco_linked_group_id: _Optional[int] = ..., oco_linked_order_ids: _Optional[_Iterable[int]] = ..., oco_parent_order_id: _Optional[int] = ...) -> None: ...

class BracketInfoMsgV5(_message.Message):
    __slots__ = ("contract_id", "parent_order_id", "oco_group_id", "bracket_id", "seq_client_id", "price", "ticks", "calculated_price", "total_qty", "released_qty", "is_target", "bracket_state", "snap_type", "acc_number", "reason", "feed_symbol")
    CONTRACT_ID_FIELD_NUMBER: _ClassVar[int]
    PARENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    OCO_GROUP_ID_FIELD_NUMBER: _ClassVar[int]
    BRACKET_ID_FIELD_NUMBER: _ClassVar[int]
    SEQ_CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    TICKS_FIELD_NUMBER: _ClassVar[int]
    CALCULATED_PRICE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_QTY_FIELD_NUMBER: _ClassVar[int]
    RELEASED_QTY_FIELD_NUMBER: _ClassVar[int]
    IS_TARGET_FIELD_NUMBER: _ClassVar[int]
    BRACKET_STATE_FIELD_NUMBER: _ClassVar[int]
    SNAP_TYPE_FIELD_NUMBER: _ClassVar[int]
    ACC_NUMBER_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    FEED_SYMBOL_FIELD_NUMBER: _ClassVar[int]
    contract_id: int
    parent_order_id: int
    oco_group_id: int
    bracket_id: int
    seq_client_id: int
    price: float
    ticks: int
    calculated_price: float
    total_qty: int
    released_qty: int
    is_target: bool
    bracket_state: BracketInfoMsg.State
    snap_type: BracketInfoMsg.SnapType
    acc_number: int
    reason: str
    feed_symbol: str
    def __init__(self, contract_id: _Optional[int] = ..., parent_order_id: _Optional[int] = ..., oco_group_id: _Optional[int] = ..., bracket_id: _Optional[int] = ..., seq_client_id: _Optional[int] = ..., price: _Optional[float] = ..., ticks: _Optional[int] = ..., calculated_price: _Optional[float] = ..., total_qty: _Optional[int] = ..., released_qty: _Optional[int] = ..., is_target: _Optional[bool] = ..., bracket_state: _Optional[_Union[BracketInfoMsg.State, str]] = ..., snap_type: _Optional[_Union[BracketInfoMsg.SnapType, str]] = ..., acc_number: _Optional[int] = ..., reason: _Optional[str] = ..., feed_symbol: _Optional[str] = ...) -> None: ...
