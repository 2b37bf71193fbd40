/*
 * The words of the call overlay (assets/js/call.js), zh-CN and English: [zh, en] per key.
 * The overlay runs on the Dash pages and on the plain /field page alike, so its strings
 * travel with it rather than in either page's table.
 */
(function () {
  "use strict";

  var CH = (window.CommandHall = window.CommandHall || {});
  var TABLE = {
    "title.call": ["视频通话", "Video call"],
    "title.conference": ["视频会商", "Video conference"],
    "status.preparing": ["正在打开摄像头和麦克风…", "Opening camera and microphone…"],
    "status.calling": ["正在呼叫 {who}…", "Calling {who}…"],
    "status.connecting": ["正在连接…", "Connecting…"],
    "status.active": ["通话中", "In call"],
    "status.reconnecting": ["连接中断，正在重新连接…", "Connection lost, reconnecting…"],
    "ring.incoming": ["{who} 邀请您视频通话", "{who} is calling you"],
    "ring.conference": ["{who} 邀请您参加视频会商", "{who} invites you to a video conference"],
    "ring.centre": ["{who} 呼叫指挥中心", "{who} is calling the centre"],
    "ring.accept": ["接听", "Accept"],
    "ring.join": ["加入", "Join"],
    "ring.decline": ["拒绝", "Decline"],
    "btn.mute": ["静音", "Mute"],
    "btn.unmute": ["取消静音", "Unmute"],
    "btn.camera_off": ["关闭摄像头", "Camera off"],
    "btn.camera_on": ["打开摄像头", "Camera on"],
    "btn.leave": ["离开", "Leave"],
    "btn.end": ["结束全部", "End for all"],
    "btn.close": ["关闭", "Close"],
    "btn.start": ["发起会商", "Start conference"],
    "btn.cancel": ["取消", "Cancel"],
    "pick.heading": ["选择参加会商的单位和人员（最多 {n} 方）", "Invite offices and staff (at most {n})"],
    "pick.too_many": ["最多邀请 {n} 方", "Invite at most {n}"],
    "pick.none": ["请至少选择一方", "Choose at least one"],
    "device.camera": ["摄像头", "Camera"],
    "device.mic": ["麦克风", "Microphone"],
    "people": ["参会人员 {n}", "In the room: {n}"],
    "person.muted": ["已静音", "muted"],
    "person.no_video": ["摄像头已关", "camera off"],
    "media.denied": [
      "摄像头或麦克风权限被拒绝。请在浏览器地址栏的权限设置中允许后重试；本次仅能收看收听。",
      "Camera or microphone access was denied. Allow it in the browser's site settings and try " +
        "again; for now you can only watch and listen.",
    ],
    "media.no_camera": [
      "未找到摄像头，已改为语音通话。",
      "No camera found; the call continues with audio only.",
    ],
    "media.nothing": [
      "未找到摄像头和麦克风，本次仅能收看收听。",
      "No camera or microphone found; you can only watch and listen.",
    ],
    "media.busy": [
      "摄像头或麦克风被其他程序占用，请关闭后重试。",
      "The camera or microphone is in use by another program; close it and try again.",
    ],
    "media.insecure": [
      "此页面不是安全连接（https），浏览器不允许使用摄像头和麦克风。",
      "This page is not served over https; the browser does not allow camera or microphone.",
    ],
    "ended.hung_up": ["通话已结束", "The call has ended"],
    "ended.declined": ["对方已拒绝", "The call was declined"],
    "ended.empty": ["所有人已离开，会商结束", "Everybody left; the conference has ended"],
    "ended.media_restarted": [
      "媒体服务已重启，通话已中断，请重新呼叫",
      "The media service restarted and the call was cut; please call again",
    ],
    "ended.failed": ["通话连接失败，请重新呼叫", "The call failed; please call again"],
    "ended.no_answer": ["无人接听，通话已结束", "No answer; the call has ended"],
    "error": ["操作失败：{message}", "Failed: {message}"],
    "error.offline": ["未连接到服务器，请稍后重试", "Not connected to the server; try again"],
    "declined.by": ["{who} 已拒绝", "{who} declined"],
    "centre": ["指挥中心", "the centre"],
  };

  /** The text of `key` in `lang` ("en" or anything else for Chinese), {name}s filled in. */
  function t(key, values, lang) {
    var pair = TABLE[key];
    var text = pair ? pair[lang === "en" ? 1 : 0] : key;
    Object.keys(values || {}).forEach(function (k) {
      text = text.split("{" + k + "}").join(values[k]);
    });
    return text;
  }

  CH.callStrings = { t: t, table: TABLE };
})();
