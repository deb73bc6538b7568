; DOTNET_JitDisasm listing, in-process run (-- --inprocess --filter '*ProposedEmission*'): the Tier-1 code of Long4Walker.WalkAddr.
; Assembly listing for method ShadowMmu.Long4Walker:WalkAddr(byref,ulong,byte,int,bool):bool:this (Tier1)
; Emitting BLENDED_CODE for generic X64 + VEX + EVEX on Unix
; Tier1 code
; optimized code
; optimized using Synthesized PGO
; rbp based frame
; fully interruptible
; with Synthesized PGO: fgCalledCount is 5211392
; 13 inlinees with PGO data; 93 single block inlinees; 0 inlinees without PGO data

G_M000_IG01:                ;; offset=0x0000
       push     rbp
       push     r15
       push     r14
       push     r13
       push     r12
       push     rbx
       sub      rsp, 104
       lea      rbp, [rsp+0x90]
       mov      r15, rdi
       mov      rbx, rsi
       mov      r14, rdx
 
G_M000_IG02:                ;; offset=0x001F
       mov      qword ptr [rbx], r14
       xor      edi, edi
       mov      dword ptr [rbx+0xB8], edi
 
G_M000_IG03:                ;; offset=0x002A
       mov      dword ptr [rbx+0x08], edi
 
G_M000_IG04:                ;; offset=0x002D
       mov      dword ptr [rbx+0x0C], edi
 
G_M000_IG05:                ;; offset=0x0030
       mov      dword ptr [rbx+0x90], edi
 
G_M000_IG06:                ;; offset=0x0036
       mov      qword ptr [rbx+0x98], rdi
 
G_M000_IG07:                ;; offset=0x003D
       mov      qword ptr [rbx+0xA0], rdi
 
G_M000_IG08:                ;; offset=0x0044
       mov      dword ptr [rbx+0xA8], edi
       mov      byte  ptr [rbx+0xAC], 0
 
G_M000_IG09:                ;; offset=0x0051
       mov      dword ptr [rbx+0xB0], edi
       mov      byte  ptr [rbx+0xB4], 0
       mov      rdi, r14
       shl      rdi, 16
       sar      rdi, 16
       cmp      rdi, r14
       jne      G_M000_IG45
       cmp      cl, 1
       sete     r13b
       movzx    r13, r13b
       mov      r12d, r13d
       cmp      cl, 2
       sete     al
       movzx    rax, al
       mov      dword ptr [rbp-0x2C], eax
       cmp      r8d, 3
       sete     r10b
       movzx    r10, r10b
       mov      dword ptr [rbp-0x30], r10d
       or       r13d, dword ptr [r15+0x50]
       mov      r11d, 2
       xor      r8d, r8d
       test     r10d, r10d
       cmove    r11d, r8d
       or       r13d, r11d
       test     r9b, r9b
       jne      G_M000_IG46
 
G_M000_IG10:                ;; offset=0x00BC
       xor      r11d, r11d
 
G_M000_IG11:                ;; offset=0x00BF
       or       r13d, r11d
       mov      r11d, 8
       xor      r8d, r8d
       test     eax, eax
       cmove    r11d, r8d
       or       r13d, r11d
       mov      r11d, 2
 
G_M000_IG12:                ;; offset=0x00DA
       test     r12d, r12d
       cmove    r11d, r8d
       mov      r9d, 4
 
G_M000_IG13:                ;; offset=0x00E7
       test     r10d, r10d
       cmove    r9d, r8d
       or       r11d, r9d
       test     eax, eax
       jne      G_M000_IG48
 
G_M000_IG14:                ;; offset=0x00F9
       xor      r9d, r9d
 
G_M000_IG15:                ;; offset=0x00FC
       or       r11d, r9d
       mov      dword ptr [rbp-0x34], r11d
 
G_M000_IG16:                ;; offset=0x0103
       mov      dword ptr [rbx+0x08], 4
       mov      dword ptr [rbx+0x0C], 4
       xor      r8d, r8d
       mov      dword ptr [rbx+0x90], r8d
 
G_M000_IG17:                ;; offset=0x011B
       mov      qword ptr [rbx+0x98], r8
 
G_M000_IG18:                ;; offset=0x0122
       mov      qword ptr [rbx+0xA0], r8
 
G_M000_IG19:                ;; offset=0x0129
       mov      dword ptr [rbx+0xA8], r8d
       mov      byte  ptr [rbx+0xAC], 0
 
G_M000_IG20:                ;; offset=0x0137
       mov      dword ptr [rbx+0xB0], r8d
       mov      byte  ptr [rbx+0xB4], 0
       mov      rdx, qword ptr [r15+0x10]
       mov      rcx, r14
       shr      rcx, 36
       and      rcx, 0xFF8
       add      rcx, rdx
       mov      r8, gword ptr [r15+0x08]
       mov      rdi, qword ptr [r8+0x20]
       cmp      rcx, rdi
       jae      G_M000_IG52
       sub      rdi, rcx
       cmp      rdi, 8
       jb       G_M000_IG49
       test     cl, 7
       jne      G_M000_IG53
 
G_M000_IG21:                ;; offset=0x0181
       mov      r8, qword ptr [r8+0x18]
       mov      r8, qword ptr [r8+rcx]
 
G_M000_IG22:                ;; offset=0x0189
       mov      dword ptr [rbx+0x08], 4
       lea      rdi, bword ptr [rbx+0x10]
       shr      rdx, 12
       mov      qword ptr [rdi+0x18], rdx
       lea      rdi, bword ptr [rbx+0x38]
       mov      qword ptr [rdi+0x18], rcx
       lea      r9, bword ptr [rbx+0x60]
       mov      rcx, r9
       mov      qword ptr [rcx+0x18], r8
       lea      rdi, bword ptr [rbx+0x88]
       mov      byte  ptr [rdi+0x03], 7
       mov      rdi, r8
       and      rdi, qword ptr [r15+0x48]
       shr      rdi, 63
       mov      esi, r8d
       and      esi, 6
       or       esi, 1
       andn     edi, edi, esi
       and      edi, 7
       test     r8b, 1
       je       G_M000_IG94
       test     r8, qword ptr [r15+0x18]
       jne      G_M000_IG96
       mov      rdx, 0xFFFFFFFFFF000
       and      rdx, r8
       mov      rcx, r14
       shr      rcx, 27
       and      rcx, 0xFF8
       add      rcx, rdx
       mov      r8, gword ptr [r15+0x08]
       mov      rsi, qword ptr [r8+0x20]
       cmp      rcx, rsi
       jae      G_M000_IG57
       sub      rsi, rcx
       cmp      rsi, 8
       jb       G_M000_IG54
       test     cl, 7
       jne      G_M000_IG58
 
G_M000_IG23:                ;; offset=0x022F
       mov      r8, qword ptr [r8+0x18]
       mov      r8, qword ptr [r8+rcx]
 
G_M000_IG24:                ;; offset=0x0237
       mov      dword ptr [rbx+0x08], 3
       lea      rsi, bword ptr [rbx+0x10]
       shr      rdx, 12
       mov      qword ptr [rsi+0x10], rdx
       lea      rsi, bword ptr [rbx+0x38]
       mov      qword ptr [rsi+0x10], rcx
       mov      rcx, r9
       mov      qword ptr [rcx+0x10], r8
       lea      rsi, bword ptr [rbx+0x88]
       mov      byte  ptr [rsi+0x02], dil
       mov      rsi, r8
       and      rsi, qword ptr [r15+0x48]
       shr      rsi, 63
       mov      ecx, r8d
       and      ecx, 6
       or       ecx, 1
       and      edi, ecx
       andn     edi, esi, edi
       mov      edx, edi
       test     r8b, 1
       je       G_M000_IG98
       test     r8b, 128
       je       G_M000_IG60
       test     r8, qword ptr [r15+0x28]
       jne      G_M000_IG59
       mov      ecx, 3
       mov      esi, 0x40000000
       mov      rdi, 0xFFFFFC0000000
       and      rdi, r8
       mov      qword ptr [rbp-0x48], rdi
 
G_M000_IG25:                ;; offset=0x02BA
       cmp      r13d, 256
       jae      G_M000_IG111
       mov      r11d, r13d
       mov      rdi, 0x7FC358BFF118
       movzx    rdi, byte  ptr [rdi+r11]
       sarx     edi, edi, edx
       and      edi, 1
       mov      dword ptr [rbp-0x60], edi
       mov      r11d, dword ptr [r15+0x58]
       test     r11d, r11d
       je       G_M000_IG75
 
G_M000_IG26:                ;; offset=0x02F1
       shr      r8, 59
       and      r8d, 15
 
G_M000_IG27:                ;; offset=0x02F9
       test     r12d, r12d
       jne      G_M000_IG76
 
G_M000_IG28:                ;; offset=0x0302
       xor      edi, edi
 
G_M000_IG29:                ;; offset=0x0304
       test     r10d, r10d
       je       G_M000_IG77
 
G_M000_IG30:                ;; offset=0x030D
       mov      dword ptr [rbp-0x68], edi
       mov      edi, 4
       mov      dword ptr [rbp-0x6C], edi
 
G_M000_IG31:                ;; offset=0x0318
       mov      edi, dword ptr [rbp-0x68]
       or       edi, dword ptr [rbp-0x6C]
       mov      dword ptr [rbp-0x70], edi
       test     eax, eax
       jne      G_M000_IG78
 
G_M000_IG32:                ;; offset=0x0329
       xor      edi, edi
       mov      dword ptr [rbp-0x74], edi
 
G_M000_IG33:                ;; offset=0x032E
       mov      edi, dword ptr [rbp-0x70]
       or       edi, dword ptr [rbp-0x74]
       mov      dword ptr [rbp-0x78], edi
       mov      dword ptr [rbp-0x54], edx
       test     dl, 4
       je       G_M000_IG79
 
G_M000_IG34:                ;; offset=0x0343
       mov      edi, 8
       mov      qword ptr [rbp-0x50], rsi
       mov      dword ptr [rbp-0x7C], edi
 
G_M000_IG35:                ;; offset=0x034F
       mov      edi, dword ptr [rbp-0x78]
       or       edi, dword ptr [rbp-0x7C]
       mov      dword ptr [rbp-0x5C], edi
       mov      dword ptr [rbp-0x64], r8d
       lea      edi, [r8+r8]
       shrx     edi, dword ptr [r15+0x5C], edi
       and      edi, 3
       mov      esi, dword ptr [rbp-0x5C]
       shrx     esi, r11d, esi
       test     edi, esi
       jne      G_M000_IG80
       xor      r11d, r11d
 
G_M000_IG36:                ;; offset=0x037C
       mov      edi, dword ptr [rbp-0x60]
       or       edi, r11d
       jne      G_M000_IG108
 
G_M000_IG37:                ;; offset=0x0388
       mov      rsi, gword ptr [r15+0x08]
       mov      bword ptr [rbp-0x90], r9
       mov      rdi, r9
       mov      r11, qword ptr [rdi+0x18]
       test     r11b, 32
       je       G_M000_IG81
 
G_M000_IG38:                ;; offset=0x03A4
       mov      rsi, gword ptr [r15+0x08]
       mov      gword ptr [rbp-0x88], rsi
       mov      dword ptr [rbp-0x58], ecx
       cmp      ecx, 3
       sete     dil
       movzx    rdi, dil
       test     edi, r12d
       jne      G_M000_IG82
 
G_M000_IG39:                ;; offset=0x03C6
       mov      edi, 32
 
G_M000_IG40:                ;; offset=0x03CB
       mov      edi, edi
       mov      r9, bword ptr [rbp-0x90]
       mov      r11, r9
       mov      r11, qword ptr [r11+0x10]
       mov      rsi, r11
       and      rsi, rdi
       cmp      rsi, rdi
       jne      G_M000_IG83
 
G_M000_IG41:                ;; offset=0x03EA
       mov      ecx, dword ptr [rbp-0x58]
       cmp      ecx, 2
       jle      G_M000_IG84
 
G_M000_IG42:                ;; offset=0x03F6
       mov      dword ptr [rbp-0x58], ecx
       cmp      ecx, 1
       je       G_M000_IG89
 
G_M000_IG43:                ;; offset=0x0402
       mov      ecx, dword ptr [rbp-0x58]
       mov      dword ptr [rbx+0x08], ecx
       mov      r15, qword ptr [rbp-0x50]
       lea      rax, [r15-0x01]
       and      rax, r14
       or       rax, qword ptr [rbp-0x48]
       mov      qword ptr [rbx+0x98], rax
       mov      qword ptr [rbx+0xA0], r15
       mov      edx, dword ptr [rbp-0x54]
       mov      dword ptr [rbx+0x90], edx
       mov      r8d, dword ptr [rbp-0x64]
       mov      dword ptr [rbx+0xA8], r8d
       mov      eax, 1
 
G_M000_IG44:                ;; offset=0x043E
       add      rsp, 104
       pop      rbx
       pop      r12
       pop      r13
       pop      r14
       pop      r15
       pop      rbp
       ret      
 
G_M000_IG45:                ;; offset=0x044D
       mov      byte  ptr [rbx+0xAC], 2
       xor      eax, eax
       mov      dword ptr [rbx+0xB0], eax
       jmp      G_M000_IG109
 
G_M000_IG46:                ;; offset=0x0461
       test     r10d, r10d
       jne      G_M000_IG10
 
G_M000_IG47:                ;; offset=0x046A
       mov      r11d, 4
       jmp      G_M000_IG11
 
G_M000_IG48:                ;; offset=0x0475
       mov      r9d, dword ptr [r15+0x54]
       jmp      G_M000_IG15
 
G_M000_IG49:                ;; offset=0x047E
       mov      r11d, dword ptr [rbp-0x34]
 
G_M000_IG50:                ;; offset=0x0482
       mov      rdi, rbx
       mov      r8d, r11d
       mov      esi, 4
 
G_M000_IG51:                ;; offset=0x048D
       add      rsp, 104
       pop      rbx
       pop      r12
       pop      r13
       pop      r14
       pop      r15
       pop      rbp
       tail.jmp [ShadowMmu.GuestWalk:OutsideMemory(int,ulong,ulong,uint):bool:this]
 
G_M000_IG52:                ;; offset=0x04A1
       mov      r11d, dword ptr [rbp-0x34]
       jmp      SHORT G_M000_IG50
 
G_M000_IG53:                ;; offset=0x04A7
       mov      r8, qword ptr [r8+0x18]
       mov      r8, qword ptr [r8+rcx]
       jmp      G_M000_IG22
 
G_M000_IG54:                ;; offset=0x04B4
       mov      r11d, dword ptr [rbp-0x34]
 
G_M000_IG55:                ;; offset=0x04B8
       mov      rdi, rbx
       mov      r8d, r11d
       mov      esi, 3
 
G_M000_IG56:                ;; offset=0x04C3
       add      rsp, 104
       pop      rbx
       pop      r12
       pop      r13
       pop      r14
       pop      r15
       pop      rbp
       tail.jmp [ShadowMmu.GuestWalk:OutsideMemory(int,ulong,ulong,uint):bool:this]
 
G_M000_IG57:                ;; offset=0x04D7
       mov      r11d, dword ptr [rbp-0x34]
       jmp      SHORT G_M000_IG55
 
G_M000_IG58:                ;; offset=0x04DD
       mov      r8, qword ptr [r8+0x18]
       mov      r8, qword ptr [r8+rcx]
       jmp      G_M000_IG24
 
G_M000_IG59:                ;; offset=0x04EA
       mov      r11d, dword ptr [rbp-0x34]
       jmp      G_M000_IG99
 
G_M000_IG60:                ;; offset=0x04F3
       test     r8, qword ptr [r15+0x20]
       jne      SHORT G_M000_IG62
       mov      rcx, 0xFFFFFFFFFF000
       and      rcx, r8
       mov      r8, r14
       shr      r8, 18
       and      r8, 0xFF8
       add      r8, rcx
       mov      rsi, gword ptr [r15+0x08]
       cmp      r8, qword ptr [rsi+0x20]
       jae      SHORT G_M000_IG61
       mov      rdi, qword ptr [rsi+0x20]
       sub      rdi, r8
       cmp      rdi, 8
       setae    dil
       movzx    rdi, dil
       test     edi, edi
       jne      SHORT G_M000_IG63
 
G_M000_IG61:                ;; offset=0x0538
       xor      edi, edi
       xor      esi, esi
       jmp      SHORT G_M000_IG66
 
G_M000_IG62:                ;; offset=0x053E
       mov      r11d, dword ptr [rbp-0x34]
       jmp      G_M000_IG99
 
G_M000_IG63:                ;; offset=0x0547
       test     r8b, 7
       je       SHORT G_M000_IG64
       mov      rdi, qword ptr [rsi+0x18]
       mov      rdi, qword ptr [rdi+r8]
       jmp      SHORT G_M000_IG65
 
G_M000_IG64:                ;; offset=0x0557
       mov      rsi, qword ptr [rsi+0x18]
       mov      rdi, qword ptr [rsi+r8]
 
G_M000_IG65:                ;; offset=0x055F
       mov      esi, 1
 
G_M000_IG66:                ;; offset=0x0564
       test     esi, esi
       je       G_M000_IG100
       mov      dword ptr [rbx+0x08], 2
       lea      rsi, bword ptr [rbx+0x10]
       shr      rcx, 12
       mov      qword ptr [rsi+0x08], rcx
       lea      rsi, bword ptr [rbx+0x38]
       mov      qword ptr [rsi+0x08], r8
       mov      r8, r9
       mov      qword ptr [r8+0x08], rdi
       lea      r8, bword ptr [rbx+0x88]
       mov      byte  ptr [r8+0x01], dl
       mov      r8, rdi
       and      r8, qword ptr [r15+0x48]
       shr      r8, 63
       mov      esi, edi
       and      esi, 6
       or       esi, 1
       and      esi, edx
       andn     edx, r8d, esi
       test     dil, 1
       je       G_M000_IG102
       test     dil, 128
       je       SHORT G_M000_IG68
       test     rdi, qword ptr [r15+0x38]
       je       SHORT G_M000_IG67
       mov      r11d, dword ptr [rbp-0x34]
       jmp      G_M000_IG103
 
G_M000_IG67:                ;; offset=0x05D2
       mov      ecx, 2
       mov      esi, 0x200000
       mov      r8, 0xFFFFFFFE00000
       and      r8, rdi
       mov      qword ptr [rbp-0x48], r8
       mov      r8, rdi
       jmp      G_M000_IG25
 
G_M000_IG68:                ;; offset=0x05F5
       test     rdi, qword ptr [r15+0x30]
       jne      SHORT G_M000_IG70
       mov      rcx, 0xFFFFFFFFFF000
       and      rcx, rdi
       mov      r8, r14
       shr      r8, 9
       and      r8, 0xFF8
       add      r8, rcx
       mov      rdi, gword ptr [r15+0x08]
       cmp      r8, qword ptr [rdi+0x20]
       jae      SHORT G_M000_IG69
       mov      rsi, qword ptr [rdi+0x20]
       sub      rsi, r8
       cmp      rsi, 8
       setae    sil
       movzx    rsi, sil
       test     esi, esi
       jne      SHORT G_M000_IG71
 
G_M000_IG69:                ;; offset=0x063A
       xor      edi, edi
       xor      esi, esi
       jmp      SHORT G_M000_IG74
 
G_M000_IG70:                ;; offset=0x0640
       mov      r11d, dword ptr [rbp-0x34]
       jmp      G_M000_IG103
 
G_M000_IG71:                ;; offset=0x0649
       test     r8b, 7
       je       SHORT G_M000_IG72
       mov      rdi, qword ptr [rdi+0x18]
       mov      rdi, qword ptr [rdi+r8]
       jmp      SHORT G_M000_IG73
 
G_M000_IG72:                ;; offset=0x0659
       mov      rdi, qword ptr [rdi+0x18]
       mov      rdi, qword ptr [rdi+r8]
 
G_M000_IG73:                ;; offset=0x0661
       mov      esi, 1
 
G_M000_IG74:                ;; offset=0x0666
       test     esi, esi
       je       G_M000_IG104
       mov      dword ptr [rbx+0x08], 1
       lea      rsi, bword ptr [rbx+0x10]
       shr      rcx, 12
       mov      qword ptr [rsi], rcx
       lea      rsi, bword ptr [rbx+0x38]
       mov      qword ptr [rsi], r8
       mov      r8, r9
       mov      qword ptr [r8], rdi
       lea      r8, bword ptr [rbx+0x88]
       mov      byte  ptr [r8], dl
       mov      r8, rdi
       and      r8, qword ptr [r15+0x48]
       shr      r8, 63
       mov      esi, edi
       and      esi, 6
       or       esi, 1
       and      esi, edx
       andn     edx, r8d, esi
       test     dil, 1
       je       G_M000_IG106
       test     rdi, qword ptr [r15+0x40]
       jne      G_M000_IG107
       mov      dword ptr [rbp-0x58], 1
       mov      qword ptr [rbp-0x50], 0x1000
       mov      r8, 0xFFFFFFFFFF000
       and      r8, rdi
       mov      qword ptr [rbp-0x48], r8
       mov      r8, rdi
       mov      ecx, dword ptr [rbp-0x58]
       mov      rsi, qword ptr [rbp-0x50]
       jmp      G_M000_IG25
 
G_M000_IG75:                ;; offset=0x06F4
       xor      r8d, r8d
       jmp      G_M000_IG27
 
G_M000_IG76:                ;; offset=0x06FC
       mov      dword ptr [rbp-0x68], 2
       mov      edi, dword ptr [rbp-0x68]
       jmp      G_M000_IG29
 
G_M000_IG77:                ;; offset=0x070B
       mov      dword ptr [rbp-0x68], edi
       xor      edi, edi
       mov      dword ptr [rbp-0x6C], edi
       jmp      G_M000_IG31
 
G_M000_IG78:                ;; offset=0x0718
       mov      dword ptr [rbp-0x74], 16
       jmp      G_M000_IG33
 
G_M000_IG79:                ;; offset=0x0724
       xor      edi, edi
       mov      dword ptr [rbp-0x7C], edi
       mov      qword ptr [rbp-0x50], rsi
       jmp      G_M000_IG35
 
G_M000_IG80:                ;; offset=0x0732
       mov      r11d, 32
       jmp      G_M000_IG36
 
G_M000_IG81:                ;; offset=0x073D
       mov      dword ptr [rbp-0x58], ecx
       mov      r8, r11
       or       r8, 32
       mov      rdi, rbx
       mov      rcx, r11
       mov      edx, 4
       mov      r9d, 8
       call     [ShadowMmu.GuestWalk:TrySetFlagsSlow(ShadowMmu.GuestMemory,int,ulong,ulong,int):bool:this]
       test     eax, eax
       mov      ecx, dword ptr [rbp-0x58]
       je       SHORT G_M000_IG86
       jmp      G_M000_IG38
 
G_M000_IG82:                ;; offset=0x076A
       mov      edi, 96
       jmp      G_M000_IG40
 
G_M000_IG83:                ;; offset=0x0774
       mov      r8, r11
       or       r8, rdi
       mov      rdi, rbx
       mov      rsi, gword ptr [rbp-0x88]
       mov      rcx, r11
       mov      edx, 3
       mov      r9d, 8
       call     [ShadowMmu.GuestWalk:TrySetFlagsSlow(ShadowMmu.GuestMemory,int,ulong,ulong,int):bool:this]
       test     eax, eax
       je       SHORT G_M000_IG85
       jmp      G_M000_IG41
 
G_M000_IG84:                ;; offset=0x07A1
       mov      rsi, gword ptr [r15+0x08]
       mov      dword ptr [rbp-0x58], ecx
       cmp      ecx, 2
       sete     dil
       movzx    rdi, dil
       test     edi, r12d
       jne      SHORT G_M000_IG87
       mov      edi, 32
       jmp      SHORT G_M000_IG88
 
G_M000_IG85:                ;; offset=0x07BF
       mov      eax, dword ptr [rbp-0x2C]
       mov      r10d, dword ptr [rbp-0x30]
       jmp      G_M000_IG16
 
G_M000_IG86:                ;; offset=0x07CB
       mov      eax, dword ptr [rbp-0x2C]
       mov      r10d, dword ptr [rbp-0x30]
       jmp      G_M000_IG16
 
G_M000_IG87:                ;; offset=0x07D7
       mov      edi, 96
 
G_M000_IG88:                ;; offset=0x07DC
       mov      edi, edi
       mov      r9, bword ptr [rbp-0x90]
       mov      r9, qword ptr [r9+0x08]
       mov      r11, r9
       and      r11, rdi
       cmp      r11, rdi
       je       SHORT G_M000_IG91
       mov      r8, r9
       or       r8, rdi
       mov      rdi, rbx
       mov      rcx, r9
       mov      edx, 2
       mov      r9d, 8
       call     [ShadowMmu.GuestWalk:TrySetFlagsSlow(ShadowMmu.GuestMemory,int,ulong,ulong,int):bool:this]
       test     eax, eax
       mov      ecx, dword ptr [rbp-0x58]
       je       SHORT G_M000_IG90
       jmp      G_M000_IG42
 
G_M000_IG89:                ;; offset=0x081D
       mov      rsi, gword ptr [r15+0x08]
       test     r12d, r12d
       jne      SHORT G_M000_IG92
       mov      edi, 32
       jmp      SHORT G_M000_IG93
 
G_M000_IG90:                ;; offset=0x082D
       mov      eax, dword ptr [rbp-0x2C]
       mov      r10d, dword ptr [rbp-0x30]
       jmp      G_M000_IG16
 
G_M000_IG91:                ;; offset=0x0839
       mov      ecx, dword ptr [rbp-0x58]
       jmp      G_M000_IG42
 
G_M000_IG92:                ;; offset=0x0841
       mov      edi, 96
 
G_M000_IG93:                ;; offset=0x0846
       mov      edi, edi
       lea      r9, bword ptr [rbx+0x60]
       mov      r9, qword ptr [r9]
       mov      r11, r9
       and      r11, rdi
       cmp      r11, rdi
       je       G_M000_IG43
       mov      r8, r9
       or       r8, rdi
       mov      rdi, rbx
       mov      rcx, r9
       mov      edx, 1
       mov      r9d, 8
       call     [ShadowMmu.GuestWalk:TrySetFlagsSlow(ShadowMmu.GuestMemory,int,ulong,ulong,int):bool:this]
       test     eax, eax
       mov      eax, dword ptr [rbp-0x2C]
       mov      r10d, dword ptr [rbp-0x30]
       je       G_M000_IG16
       jmp      G_M000_IG43
 
G_M000_IG94:                ;; offset=0x088F
       mov      dword ptr [rbx+0x08], 4
 
G_M000_IG95:                ;; offset=0x0896
       mov      byte  ptr [rbx+0xAC], 1
       mov      r11d, dword ptr [rbp-0x34]
       mov      dword ptr [rbx+0xB0], r11d
       jmp      G_M000_IG109
 
G_M000_IG96:                ;; offset=0x08AD
       mov      dword ptr [rbx+0x08], 4
 
G_M000_IG97:                ;; offset=0x08B4
       mov      byte  ptr [rbx+0xAC], 1
       mov      r11d, dword ptr [rbp-0x34]
       or       r11d, 9
       mov      dword ptr [rbx+0xB0], r11d
       jmp      G_M000_IG109
 
G_M000_IG98:                ;; offset=0x08CF
       mov      r11d, dword ptr [rbp-0x34]
       mov      dword ptr [rbx+0x08], 3
       jmp      SHORT G_M000_IG95
 
G_M000_IG99:                ;; offset=0x08DC
       mov      dword ptr [rbx+0x08], 3
       jmp      SHORT G_M000_IG97
 
G_M000_IG100:                ;; offset=0x08E5
       mov      qword ptr [rbp-0x40], r8
       mov      r11d, dword ptr [rbp-0x34]
       mov      rdi, rbx
       mov      r8d, r11d
       mov      rdx, rcx
       mov      rcx, qword ptr [rbp-0x40]
       mov      esi, 2
 
G_M000_IG101:                ;; offset=0x08FF
       add      rsp, 104
       pop      rbx
       pop      r12
       pop      r13
       pop      r14
       pop      r15
       pop      rbp
       tail.jmp [ShadowMmu.GuestWalk:OutsideMemory(int,ulong,ulong,uint):bool:this]
 
G_M000_IG102:                ;; offset=0x0913
       mov      r11d, dword ptr [rbp-0x34]
       mov      dword ptr [rbx+0x08], 2
       jmp      G_M000_IG95
 
G_M000_IG103:                ;; offset=0x0923
       mov      dword ptr [rbx+0x08], 2
       jmp      SHORT G_M000_IG97
 
G_M000_IG104:                ;; offset=0x092C
       mov      qword ptr [rbp-0x40], r8
       mov      r11d, dword ptr [rbp-0x34]
       mov      rdi, rbx
       mov      r8d, r11d
       mov      rdx, rcx
       mov      rcx, qword ptr [rbp-0x40]
       mov      esi, 1
 
G_M000_IG105:                ;; offset=0x0946
       add      rsp, 104
       pop      rbx
       pop      r12
       pop      r13
       pop      r14
       pop      r15
       pop      rbp
       tail.jmp [ShadowMmu.GuestWalk:OutsideMemory(int,ulong,ulong,uint):bool:this]
 
G_M000_IG106:                ;; offset=0x095A
       mov      r11d, dword ptr [rbp-0x34]
       mov      dword ptr [rbx+0x08], 1
       jmp      G_M000_IG95
 
G_M000_IG107:                ;; offset=0x096A
       mov      r11d, dword ptr [rbp-0x34]
       mov      dword ptr [rbx+0x08], 1
       jmp      G_M000_IG97
 
G_M000_IG108:                ;; offset=0x097A
       mov      dword ptr [rbx+0x08], ecx
       mov      byte  ptr [rbx+0xAC], 1
       mov      r15d, dword ptr [rbp-0x34]
       or       r15d, 1
       or       r11d, r15d
       mov      dword ptr [rbx+0xB0], r11d
 
G_M000_IG109:                ;; offset=0x0996
       xor      eax, eax
 
G_M000_IG110:                ;; offset=0x0998
       add      rsp, 104
       pop      rbx
       pop      r12
       pop      r13
       pop      r14
       pop      r15
       pop      rbp
       ret      
 
G_M000_IG111:                ;; offset=0x09A7
       call     CORINFO_HELP_RNGCHKFAIL
       int3     
 
; Total bytes of code 2477

