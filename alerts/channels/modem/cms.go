package modem

import (
	"fmt"
	"strconv"
	"strings"
)

// CMSError is a "+CMS ERROR: n" answer (3GPP TS 27.005 §3.2.5, TS 24.011
// and TS 23.040 causes): the message was not sent.
type CMSError struct {
	// Code is the error number; 0 when the modem answered in words.
	Code int
	// Answer is the modem's line, verbatim.
	Answer string
	// Meaning is the code's meaning, Chinese first.
	Meaning string
	// Retry says whether another attempt may succeed (network and modem
	// trouble) or not (a bad number, a barred SIM, a rejected PDU).
	Retry bool
}

func (e *CMSError) Error() string {
	if e.Meaning == "" {
		return e.Answer
	}
	return e.Answer + " " + e.Meaning
}

// cmsCause is one row of the table of +CMS ERROR codes.
type cmsCause struct {
	meaning string
	retry   bool
}

// cmsCauses lists the codes modems commonly return when a send fails.
var cmsCauses = map[int]cmsCause{
	1:   {"号码不存在 (unassigned number)", false},
	8:   {"运营商禁止 (operator determined barring)", false},
	10:  {"呼叫受限 (call barred)", false},
	21:  {"短信被拒绝 (short message transfer rejected)", false},
	27:  {"目的号码不可用 (destination out of service)", true},
	28:  {"用户不明 (unidentified subscriber)", false},
	29:  {"业务被拒绝 (facility rejected)", false},
	30:  {"未知用户 (unknown subscriber)", false},
	38:  {"网络故障 (network out of order)", true},
	41:  {"临时故障 (temporary failure)", true},
	42:  {"网络拥塞 (congestion)", true},
	47:  {"资源不可用 (resources unavailable)", true},
	50:  {"未开通短信业务 (requested facility not subscribed)", false},
	69:  {"功能未实现 (requested facility not implemented)", false},
	81:  {"无效的短信参考号 (invalid short message transfer reference value)", true},
	95:  {"无效消息 (invalid message, unspecified)", false},
	96:  {"缺少必选信息 (invalid mandatory information)", false},
	97:  {"消息类型不存在 (message type non-existent)", false},
	98:  {"消息与协议状态不符 (message not compatible with protocol state)", true},
	99:  {"信息元素不存在 (information element non-existent)", false},
	111: {"协议错误 (protocol error, unspecified)", true},
	127: {"互通错误 (interworking, unspecified)", true},
	128: {"不支持远程互通 (telematic interworking not supported)", false},
	143: {"TP-PID 错误 (unspecified TP-PID error)", false},
	144: {"不支持的编码 (data coding scheme not supported)", false},
	159: {"TP-DCS 错误 (unspecified TP-DCS error)", false},
	176: {"不支持的 TPDU (TPDU not supported)", false},
	192: {"短信中心忙 (SC busy)", true},
	193: {"无短信中心签约 (no SC subscription)", false},
	194: {"短信中心故障 (SC system failure)", true},
	195: {"无效的接收地址 (invalid SME address)", false},
	196: {"接收方被禁止 (destination SME barred)", false},
	197: {"重复短信被拒绝 (SM rejected, duplicate SM)", false},
	300: {"模块故障 (ME failure)", true},
	301: {"短信服务被占用 (SMS service of ME reserved)", true},
	302: {"操作不允许 (operation not allowed)", true},
	303: {"操作不支持 (operation not supported)", false},
	304: {"无效的 PDU 参数 (invalid PDU mode parameter)", false},
	305: {"无效的文本参数 (invalid text mode parameter)", false},
	310: {"未插 SIM 卡 (SIM not inserted)", true},
	311: {"需要 SIM PIN (SIM PIN required)", false},
	312: {"需要 PH-SIM PIN (PH-SIM PIN required)", false},
	313: {"SIM 卡故障 (SIM failure)", true},
	314: {"SIM 卡忙 (SIM busy)", true},
	315: {"SIM 卡错误 (SIM wrong)", false},
	316: {"需要 SIM PUK (SIM PUK required)", false},
	320: {"存储器故障 (memory failure)", true},
	321: {"无效的存储位置 (invalid memory index)", false},
	322: {"存储器已满 (memory full)", true},
	330: {"短信中心号码未知 (SMSC address unknown)", false},
	331: {"无网络服务 (no network service)", true},
	332: {"网络超时 (network timeout)", true},
	340: {"无需 +CNMA 确认 (no +CNMA acknowledgement expected)", false},
	500: {"未知错误 (unknown error)", true},
}

// cmsError builds the error of a "+CMS ERROR: v" answer, v being the part
// after the colon. A code that is not in the table, or an answer in
// words, is retried: an answer not understood is never counted final.
func cmsError(v string) *CMSError {
	v = strings.TrimSpace(v)
	e := &CMSError{Answer: "+CMS ERROR: " + v, Retry: true}
	code, err := strconv.Atoi(v)
	if err != nil {
		return e
	}
	e.Code = code
	if c, ok := cmsCauses[code]; ok {
		e.Meaning, e.Retry = c.meaning, c.retry
	} else {
		e.Meaning = fmt.Sprintf("未列出的错误码 (code %d not in the table)", code)
	}
	return e
}
