package ui

import (
	"fmt"

	"fyne.io/fyne/v2"

	"github.com/berth-app/berth/app/assistant"
)

// maxTrayNet is how many waiting network questions the tray lists; the
// others wait in their chats (or time out).
const maxTrayNet = 5

// NetTrayLabel is the tray's line of a waiting network question.
func NetTrayLabel(q assistant.NetQuestion) string {
	return fmt.Sprintf("Network question: %s (%s) — answer…", q.Dest(), q.Group)
}

// netTrayItems are the tray's lines of the network questions waiting: one
// each, whose submenu answers it (Allow once / Always for the group / Deny)
// or opens the chat.
func netTrayItems(qs []assistant.NetQuestion, act TrayActions) []*fyne.MenuItem {
	var items []*fyne.MenuItem
	for i, q := range qs {
		if i == maxTrayNet {
			items = append(items, &fyne.MenuItem{Label: fmt.Sprintf("%d more network questions", len(qs)-i), Disabled: true})
			break
		}
		id := q.ID
		answer := func(ans assistant.NetAnswer) func() {
			return func() {
				if act.OnAnswerNet != nil {
					act.OnAnswerNet(id, ans)
				}
			}
		}
		sub := fyne.NewMenu("",
			&fyne.MenuItem{Label: NetQuestionText(q), Disabled: true},
			fyne.NewMenuItem("Allow once", answer(assistant.NetAllowOnce)),
			fyne.NewMenuItem(NetAlwaysLabel(q.Group), answer(assistant.NetAllowAlways)),
			fyne.NewMenuItem("Deny", answer(assistant.NetDeny)),
		)
		if q.Session != "" {
			group, session := q.Group, q.Session
			sub.Items = append(sub.Items, fyne.NewMenuItemSeparator(), fyne.NewMenuItem("Open chat", func() {
				if act.OnOpenNetChat != nil {
					act.OnOpenNetChat(group, session)
				}
			}))
		}
		items = append(items, &fyne.MenuItem{Label: NetTrayLabel(q), ChildMenu: sub})
	}
	return items
}
